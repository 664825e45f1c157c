"""The working-day calendar: China 2026 from the holidays package, staff adjustments,
unconfirmed years, and the staff calendar pages.

The unconfirmed year is the first one the installed holidays package does not carry,
so a release that adds a year moves these tests on to the next."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import csrf_from, first_unknown_year
from workroom.audit.models import AuditEvent
from workroom.errors import DomainError
from workroom.workdays import calendar as workdays
from workroom.workdays.calendar import Adjustment, WorkingCalendar
from workroom.workdays.models import CalendarAdjustment, ConfirmedYear

D = dt.date
EN = {"Accept-Language": "en"}
CAL_2026 = WorkingCalendar([2025, 2026, 2027])
# The first year the package does not carry, and the last one before it, which it does.
UNKNOWN = first_unknown_year()
KNOWN = UNKNOWN - 1


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# 2026 from the holidays package


def test_spring_festival_2026_with_its_makeup_saturdays():
    assert CAL_2026.is_working_day(D(2026, 2, 13))  # Friday before the break
    assert CAL_2026.is_working_day(D(2026, 2, 14))  # makeup Saturday
    assert not any(CAL_2026.is_working_day(d) for d in days(D(2026, 2, 15), D(2026, 2, 23)))
    assert CAL_2026.is_working_day(D(2026, 2, 24))
    assert CAL_2026.is_working_day(D(2026, 2, 28))  # makeup Saturday
    assert not CAL_2026.is_working_day(D(2026, 3, 1))  # an ordinary Sunday
    assert not CAL_2026.is_working_day(D(2026, 2, 7))  # an ordinary Saturday


def test_labour_day_2026():
    assert CAL_2026.is_working_day(D(2026, 4, 30))
    assert not any(CAL_2026.is_working_day(d) for d in days(D(2026, 5, 1), D(2026, 5, 5)))
    assert CAL_2026.is_working_day(D(2026, 5, 6))
    assert CAL_2026.is_working_day(D(2026, 5, 9))  # makeup Saturday
    assert not CAL_2026.is_working_day(D(2026, 5, 10))


def test_national_day_2026():
    assert CAL_2026.is_working_day(D(2026, 9, 20))  # makeup Sunday
    assert CAL_2026.is_working_day(D(2026, 9, 30))
    assert not any(CAL_2026.is_working_day(d) for d in days(D(2026, 10, 1), D(2026, 10, 7)))
    assert CAL_2026.is_working_day(D(2026, 10, 8))
    assert CAL_2026.is_working_day(D(2026, 10, 10))  # makeup Saturday
    assert not CAL_2026.is_working_day(D(2026, 10, 11))


def test_describe_names_the_day():
    makeup = CAL_2026.describe(D(2026, 2, 14))
    assert (makeup.working, makeup.kind, makeup.source) == (True, "makeup", "package")
    festival = CAL_2026.describe(D(2026, 2, 17))
    assert (festival.working, festival.kind, festival.name) == (False, "holiday", "春节")
    assert CAL_2026.describe(D(2026, 3, 7)).kind == "weekend"
    assert CAL_2026.describe(D(2026, 3, 9)).kind == "ordinary"


def test_add_working_days_across_the_breaks():
    assert CAL_2026.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert CAL_2026.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert CAL_2026.add_working_days(D(2026, 2, 13), 3) == D(2026, 2, 25)
    assert CAL_2026.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert CAL_2026.add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 10)
    # An ordinary Friday plus one is the Monday.
    assert CAL_2026.add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 9)
    # Zero stays on a working day and moves off a holiday.
    assert CAL_2026.add_working_days(D(2026, 3, 6), 0) == D(2026, 3, 6)
    assert CAL_2026.add_working_days(D(2026, 10, 1), 0) == D(2026, 10, 8)
    with pytest.raises(ValueError):
        CAL_2026.add_working_days(D(2026, 3, 6), -1)


def test_next_working_day():
    assert CAL_2026.next_working_day(D(2026, 2, 15)) == D(2026, 2, 24)
    assert CAL_2026.next_working_day(D(2026, 2, 13)) == D(2026, 2, 13)
    assert CAL_2026.next_working_day(D(2026, 2, 13), include_same_day=False) == D(2026, 2, 14)


def test_working_days_between():
    assert CAL_2026.working_days_between(D(2026, 2, 13), D(2026, 2, 28)) == 6
    assert CAL_2026.working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert CAL_2026.working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == -3
    assert CAL_2026.working_days_between(D(2026, 3, 9), D(2026, 3, 9)) == 0


def test_staff_adjustment_overrides_the_package():
    cal = WorkingCalendar(
        [2026],
        [
            Adjustment(D(2026, 2, 24), "holiday", "春节"),
            Adjustment(D(2026, 2, 21), "workday", "春节"),
            Adjustment(D(2026, 2, 14), "holiday", "春节"),
        ],
    )
    assert not cal.is_working_day(D(2026, 2, 24))
    assert cal.is_working_day(D(2026, 2, 21))
    assert not cal.is_working_day(D(2026, 2, 14))
    assert cal.describe(D(2026, 2, 21)).source == "staff"
    assert cal.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 21)


def test_unconfirmed_year_is_flagged_but_still_answered():
    cal = WorkingCalendar([KNOWN, UNKNOWN])
    assert cal.is_confirmed(KNOWN)
    assert not cal.is_confirmed(UNKNOWN)
    assert cal.unconfirmed_years(D(KNOWN, 11, 1), D(UNKNOWN, 3, 1)) == [UNKNOWN]
    cal.require_confirmed(D(KNOWN, 1, 1), D(KNOWN, 12, 31))
    with pytest.raises(DomainError) as error:
        cal.require_confirmed(D(KNOWN, 12, 1), D(UNKNOWN, 1, 31))
    assert str(UNKNOWN) in str(error.value) and str(KNOWN) not in str(error.value)
    assert "not confirmed" in str(error.value)
    # New Year's Day is a statutory holiday whatever the notice will say; an ordinary
    # weekday (the Monday of the week after, clear of any day in lieu) is worked.
    assert not cal.is_working_day(D(UNKNOWN, 1, 1))
    week_after = D(UNKNOWN, 1, 8)
    assert cal.is_working_day(week_after + dt.timedelta(days=-week_after.weekday() % 7))
    assert WorkingCalendar([UNKNOWN], confirmed_years=[UNKNOWN]).is_confirmed(UNKNOWN)


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 6, 30)),
    n=st.integers(min_value=1, max_value=80),
)
def test_add_working_days_properties(start, n):
    result = CAL_2026.add_working_days(start, n)
    assert CAL_2026.is_working_day(result)
    assert result > start
    assert CAL_2026.working_days_between(start, result) == n
    assert CAL_2026.working_days_between(start, result - dt.timedelta(days=1)) == n - 1


@settings(max_examples=100, deadline=None)
@given(start=st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 6, 30)))
def test_next_working_day_properties(start):
    following = CAL_2026.next_working_day(start)
    assert CAL_2026.is_working_day(following)
    assert all(not CAL_2026.is_working_day(d) for d in days(start, following)[:-1])


# Stored adjustments and confirmations


def test_stored_adjustment_changes_the_module_functions(db, make_user):
    admin = make_user("admin")
    assert workdays.is_working_day(D(2026, 2, 24))
    workdays.add_adjustment(D(2026, 2, 24), "holiday", "春节", "测试通知", admin)
    db.session.commit()
    assert not workdays.is_working_day(D(2026, 2, 24))
    assert workdays.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 25)
    assert workdays.next_working_day(D(2026, 2, 24)) == D(2026, 2, 25)
    assert workdays.working_days_between(D(2026, 2, 13), D(2026, 2, 28)) == 5
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "calendar_adjustment.create")
    )
    assert event.actor_id == admin.id and "2026-02-24" in event.summary


def test_add_working_days_reads_adjustments_of_the_next_year(db):
    last_day = D(KNOWN, 12, 31)
    # The first working day of the next year: after New Year's Day and, should it fall
    # on a weekend, the day in lieu.
    first = workdays.add_working_days(last_day, 1)
    assert first.year == UNKNOWN and first.weekday() < 5
    assert not any(workdays.is_working_day(d) for d in days(D(UNKNOWN, 1, 1), first)[:-1])
    workdays.add_adjustment(first, "holiday", "元旦", "测试通知")
    workdays.confirm_year(UNKNOWN, "staff", "测试通知")
    db.session.commit()
    # One working day after 31 December skips the added day off too, to the next weekday.
    following = first + dt.timedelta(days=3 if first.weekday() == 4 else 1)
    assert workdays.add_working_days(last_day, 1) == following


def test_adjustment_validation(db):
    with pytest.raises(DomainError) as error:
        workdays.add_adjustment(D(2026, 5, 11), "vacation", "劳动节", "通知")
    assert error.value.field == "kind"
    with pytest.raises(DomainError) as error:
        workdays.add_adjustment(D(2026, 5, 11), "holiday", "劳动节", "")
    assert error.value.field == "notice"
    with pytest.raises(DomainError) as error:
        workdays.add_adjustment(D(2026, 5, 11), "holiday", "", "通知")
    assert error.value.field == "name"
    with pytest.raises(DomainError) as error:
        workdays.add_adjustment(D(1999, 5, 3), "holiday", "劳动节", "通知")
    assert error.value.field == "day"
    workdays.add_adjustment(D(2026, 5, 11), "holiday", "劳动节", "通知")
    with pytest.raises(DomainError) as error:
        workdays.add_adjustment(D(2026, 5, 11), "workday", "劳动节", "通知")
    assert error.value.field == "day"
    # Demo entries need no notice.
    workdays.add_adjustment(D(2027, 2, 20), "workday", "春节", "", source="demo")


def test_confirm_year(db, make_user):
    admin = make_user("admin")
    assert not workdays.is_confirmed(UNKNOWN)
    with pytest.raises(DomainError) as error:
        workdays.require_confirmed(D(UNKNOWN, 3, 1), D(UNKNOWN, 3, 31))
    assert str(UNKNOWN) in str(error.value)
    at = dt.datetime(KNOWN, 11, 30, 2)
    workdays.confirm_year(UNKNOWN, "staff", "测试通知", admin, now=at)
    db.session.commit()
    assert workdays.is_confirmed(UNKNOWN)
    workdays.require_confirmed(D(UNKNOWN, 3, 1), D(UNKNOWN, 3, 31))
    row = db.session.scalar(sa.select(ConfirmedYear).where(ConfirmedYear.year == UNKNOWN))
    assert row.confirmed_by_id == admin.id and row.confirmed_at == at
    # Confirmed by staff, carried by the package, out of range.
    for year, field in ((UNKNOWN, "year"), (KNOWN, "year"), (2101, "year")):
        with pytest.raises(DomainError) as error:
            workdays.confirm_year(year, "staff", "测试通知", admin)
        assert error.value.field == field
    with pytest.raises(DomainError) as error:
        workdays.confirm_year(UNKNOWN + 1, "staff", "", admin)
    assert error.value.field == "note"
    workdays.confirm_year(UNKNOWN + 1, "demo", "", None)


# Pages


def _token(client, year: int = 2026) -> str:
    return csrf_from(client.get(f"/staff/calendar?year={year}").get_data(as_text=True))


def test_admin_sees_the_2026_calendar(client, db, login_as):
    login_as("admin")
    response = client.get("/staff/calendar?year=2026", headers=EN)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "February 2026" in text
    assert "The holidays package carries the State Council" in text
    assert "Not confirmed" not in text
    assert "Makeup workday" in text and "Off" in text and "Work" in text
    assert "Add an adjustment" in text


def test_unconfirmed_year_shows_the_warning(client, db, login_as):
    login_as("admin")
    text = client.get(f"/staff/calendar?year={UNKNOWN}", headers=EN).get_data(as_text=True)
    assert "Not confirmed" in text
    assert f"The holiday arrangements for {UNKNOWN} are not confirmed." in text
    assert f"Confirm {UNKNOWN}" in text


def test_admin_adds_and_removes_an_adjustment(client, db, login_as):
    login_as("admin")
    response = client.post(
        "/staff/calendar/adjustments?year=2027",
        data={
            "csrf_token": _token(client, 2027),
            "day": "2027-02-20",
            "kind": "workday",
            "name": "春节",
            "notice": "<b>测试通知</b>",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/calendar?year=2027")
    row = db.session.scalar(sa.select(CalendarAdjustment))
    assert (row.day, row.kind, row.notice) == (D(2027, 2, 20), "workday", "<b>测试通知</b>")
    page = client.get("/staff/calendar?year=2027", headers=EN).get_data(as_text=True)
    assert "&lt;b&gt;测试通知&lt;/b&gt;" in page and "<b>测试通知</b>" not in page
    assert workdays.is_working_day(D(2027, 2, 20))

    row_id = row.id
    assert client.post(f"/staff/calendar/adjustments/{row_id}/delete").status_code == 400
    response = client.post(
        f"/staff/calendar/adjustments/{row_id}/delete", data={"csrf_token": _token(client)}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(CalendarAdjustment)) is None
    assert db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "calendar_adjustment.delete")
    )
    token = _token(client)
    missing = client.post("/staff/calendar/adjustments/999/delete", data={"csrf_token": token})
    assert missing.status_code == 404


def test_admin_confirms_a_year(client, db, login_as):
    login_as("admin")
    response = client.post(
        f"/staff/calendar/confirm?year={UNKNOWN}",
        data={"csrf_token": _token(client, UNKNOWN), "year": str(UNKNOWN), "note": "测试通知"},
    )
    assert response.status_code == 302
    text = client.get(f"/staff/calendar?year={UNKNOWN}", headers=EN).get_data(as_text=True)
    assert "Not confirmed" not in text and "Entered by staff on" in text


def test_invalid_input_answers_400_with_a_message(client, db, login_as):
    login_as("admin")
    response = client.post(
        "/staff/calendar/adjustments?year=2026",
        data={
            "csrf_token": _token(client),
            "day": "2026-05-11",
            "kind": "holiday",
            "name": "劳动节",
        },
        headers=EN,
    )
    assert response.status_code == 400
    assert "Enter the notice this comes from." in response.get_data(as_text=True)
    response = client.post(
        "/staff/calendar/adjustments?year=2026",
        data={"csrf_token": _token(client), "day": "not a day", "kind": "holiday"},
        headers=EN,
    )
    assert response.status_code == 400
    workdays.add_adjustment(D(2026, 5, 11), "holiday", "劳动节", "测试通知")
    db.session.commit()
    response = client.post(
        "/staff/calendar/adjustments?year=2026",
        data={
            "csrf_token": _token(client),
            "day": "2026-05-11",
            "kind": "workday",
            "name": "劳动节",
            "notice": "测试通知",
        },
        headers=EN,
    )
    assert response.status_code == 400
    assert "2026-05-11 already has an adjustment." in response.get_data(as_text=True)
    response = client.post(
        "/staff/calendar/confirm?year=2026",
        data={"csrf_token": _token(client), "year": "2026", "note": "测试通知"},
        headers=EN,
    )
    assert response.status_code == 400
    assert "already carries the arrangements for 2026" in response.get_data(as_text=True)
    assert client.get("/staff/calendar?year=1900").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "liaison"])
def test_readers_cannot_change_the_calendar(client, db, login_as, make_workroom, role):
    scope = {"workrooms": [make_workroom()]} if role == "liaison" else {}
    login_as(role, **scope)
    page = client.get(f"/staff/calendar?year={UNKNOWN}", headers=EN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"The holiday arrangements for {UNKNOWN} are not confirmed." in text
    assert "Add an adjustment" not in text and f"Confirm {UNKNOWN}" not in text
    token = csrf_from(text)
    response = client.post(
        "/staff/calendar/adjustments",
        data={
            "csrf_token": token,
            "day": f"{UNKNOWN}-02-20",
            "kind": "workday",
            "name": "春节",
            "notice": "测试通知",
        },
    )
    assert response.status_code == 403
    assert client.post("/staff/calendar/confirm", data={"csrf_token": token}).status_code == 403
    assert db.session.scalar(sa.select(CalendarAdjustment)) is None


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/staff/calendar")
    assert response.status_code in (302, 401)
