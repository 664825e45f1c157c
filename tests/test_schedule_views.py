"""Staff pages of the schedule: rules, generate → preview → publish, changes to a day,
swap requests and a deputy's own days; who may see and do what."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from, first_unknown_year, login, post_form
from workroom.audit.models import AuditEvent
from workroom.outbox.models import OutboxMessage
from workroom.places.models import Workroom
from workroom.schedule import changes, deputy_days, periods, reception_rules
from workroom.schedule.models import ReceptionDay, ReceptionRule, SwapRequest
from workroom.schedule.overview import workroom_summaries
from workroom.schedule.rules import build_rrule
from workroom.schedule.views import staff as views
from workroom.workdays.calendar import next_working_day

D = dt.date
NOW = dt.datetime(2026, 3, 2, 0, 0)
# The first year the holidays package does not carry.
UNKNOWN = first_unknown_year()
EN = {"Accept-Language": "en"}
RULE_FORM = {
    "kind": "weekly",
    "weekdays": ["WE"],
    "month_day": "0",
    "starts_at_time": "09:00",
    "ends_at_time": "11:30",
    "deputies_needed": "2",
    "capacity": "20",
    "valid_from": "2026-03-01",
    "valid_until": "",
    "on_non_working_day": "next_working_day",
}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(views, "utcnow", lambda: NOW)


@pytest.fixture
def room(db, make_workroom, make_deputy):
    workroom = make_workroom(name="下摄司街道代表工作室")
    reception_rules.create_rule(
        workroom,
        rrule=build_rrule("weekly", ["WE"]),
        starts_at_time=dt.time(9),
        ends_at_time=dt.time(11, 30),
        deputies_needed=2,
        capacity=20,
        valid_from=D(2026, 1, 1),
        on_non_working_day="next_working_day",
    )
    for n in range(4):
        deputy = make_deputy(name=f"代表{n}", email=f"d{n}@example.cn", phone=f"1390000900{n}")
        deputy.workrooms.append(workroom)
    db.session.commit()
    return workroom


def _published(db, workroom):
    periods.generate_period(workroom, D(2026, 4, 1), D(2026, 4, 30), NOW)
    periods.publish_days(workroom, D(2026, 4, 1), D(2026, 4, 30), NOW)
    db.session.commit()
    return db.session.scalars(
        sa.select(ReceptionDay)
        .where(ReceptionDay.workroom_id == workroom.id)
        .order_by(ReceptionDay.starts_at)
    ).all()


def _post(client, page: str, url: str, data: dict, prefix: str | None = None, **kw):
    """POST ``data`` to ``url`` with the CSRF token of ``page`` (under the form's prefix)."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    if prefix:
        data = {f"{prefix}-{k}": v for k, v in data.items()}
    return client.post(url, data={**data, name: token}, **kw)


# Rules


def test_liaison_creates_a_rule_in_plain_words(client, db, login_as, make_workroom):
    workroom = make_workroom()
    login_as("liaison", workrooms=[workroom])
    url = f"/staff/workrooms/{workroom.id}/rules/new"
    assert client.get(url).status_code == 200
    data = {**RULE_FORM, "kind": "monthly_weekday", "weekdays": ["WE"], "nth": ["2", "4"]}
    response = post_form(client, url, data)
    assert response.status_code == 302
    rule = db.session.scalar(sa.select(ReceptionRule))
    assert rule.rrule == "FREQ=MONTHLY;BYDAY=2WE,4WE"
    page = client.get(f"/staff/workrooms/{workroom.id}/schedule", headers=EN)
    assert "every 2nd and 4th Wednesday, 09:00–11:30, 2 deputies" in page.get_data(as_text=True)
    page = client.get(f"/staff/workrooms/{workroom.id}/schedule?lang=zh")
    assert "每月第2、4个星期三 09:00–11:30，2名代表" in page.get_data(as_text=True)
    assert db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "reception_rule.create")
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weekdays": []}, "Choose the weekdays."),
        ({"kind": "monthly_weekday"}, "Choose which weeks of the month"),
        ({"kind": "monthly_day"}, "Choose days of the month"),
        ({"ends_at_time": "08:00"}, "The reception must end after it starts."),
        ({"ends_at_time": "soon"}, "Not a valid time value."),
        ({"capacity": "many"}, "Not a valid integer value."),
        ({"deputies_needed": "11"}, "Number must be between 1 and 10."),
        ({"valid_until": "2026-01-01"}, "The rule must end on or after the day it starts."),
        ({"kind": "yearly"}, "Not a valid choice."),
    ],
)
def test_bad_rule_input_is_explained(client, db, login_as, make_workroom, changes, message):
    workroom = make_workroom()
    login_as("admin")
    response = post_form(
        client, f"/staff/workrooms/{workroom.id}/rules/new", {**RULE_FORM, **changes}, headers=EN
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(ReceptionRule)) is None


def test_rule_edit_shows_the_choices_and_deactivates(client, db, login_as, room):
    rule = db.session.scalar(sa.select(ReceptionRule))
    login_as("liaison", workrooms=[room])
    url = f"/staff/reception-rules/{rule.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert '<input checked id="weekdays-2" name="weekdays" type="checkbox" value="WE">' in page
    response = post_form(client, url, {**RULE_FORM, "weekdays": ["TU", "TH"], "active": ""})
    assert response.status_code == 302
    db.session.refresh(rule)
    assert (rule.rrule, rule.active) == ("FREQ=WEEKLY;BYDAY=TU,TH", False)


# Generate, preview, publish


def test_generate_preview_publish(client, db, login_as, room):
    login_as("liaison", workrooms=[room])
    url = f"/staff/workrooms/{room.id}/generate"
    page = client.get(url).get_data(as_text=True)
    assert 'value="2026-04"' in page  # next month by default
    response = post_form(client, url, {"start_month": "2026-04", "length": "1"}, headers=EN)
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    assert preview_url == f"/staff/workrooms/{room.id}/preview?start=2026-04-01&end=2026-04-30"

    preview = client.get(preview_url, headers=EN).get_data(as_text=True)
    assert "Publish 5 reception days" in preview
    assert "differ by at most 1" in preview
    assert preview.count("代表") >= 10

    response = _post(
        client,
        preview_url,
        f"/staff/workrooms/{room.id}/publish",
        {"start": "2026-04-01", "end": "2026-04-30"},
    )
    assert response.status_code == 302
    statuses = set(db.session.scalars(sa.select(ReceptionDay.status)))
    assert statuses == {"published"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 20
    overview = client.get(f"/staff/workrooms/{room.id}/schedule", headers=EN).get_data(as_text=True)
    assert "Published" in overview and "April 2026" in overview


def test_an_unconfirmed_year_asks_for_acknowledgement(client, db, login_as, room):
    login_as("liaison", workrooms=[room])
    url = f"/staff/workrooms/{room.id}/generate"
    # December of the last year the package carries, for three months.
    period = {"start_month": f"{UNKNOWN - 1}-12", "length": "3"}
    response = post_form(client, url, period, headers=EN)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f"The holiday arrangements for {UNKNOWN} are not confirmed" in text
    assert f"I have checked the holiday arrangements for {UNKNOWN}" in text
    assert f"/staff/calendar?year={UNKNOWN}" in text
    assert db.session.scalar(sa.select(ReceptionDay)) is None

    response = post_form(
        client, url, {**period, "acknowledge": "y", "acknowledged_years": str(UNKNOWN)}
    )
    assert response.status_code == 302
    # The last Wednesday of February (moved on should it be a day off).
    end = D(UNKNOWN, 3, 1) - dt.timedelta(days=1)
    last_wednesday = end - dt.timedelta(days=(end.weekday() - 2) % 7)
    assert db.session.scalar(sa.select(sa.func.max(ReceptionDay.day))) == next_working_day(
        last_wednesday
    )
    assert db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "calendar.acknowledge")
    )


def test_bad_generate_input_is_400(client, db, login_as, room):
    login_as("admin")
    url = f"/staff/workrooms/{room.id}/generate"
    for data in (
        {"start_month": "April", "length": "1"},
        {"start_month": "2026-04", "length": "2"},
    ):
        assert post_form(client, url, data).status_code == 400
    assert (
        client.get(f"/staff/workrooms/{room.id}/preview?start=x&end=2026-04-30").status_code == 400
    )
    assert client.get(f"/staff/workrooms/{room.id}/preview?start=2026-04-01").status_code == 400
    # Without a period the preview shows next month.
    page = client.get(f"/staff/workrooms/{room.id}/preview", headers=EN).get_data(as_text=True)
    assert "Preview: Apr 1, 2026 to Apr 30, 2026" in page


def test_admin_generates_for_all_workrooms_and_liaisons_may_not(
    client, app, db, login_as, room, make_user
):
    login_as("admin")
    response = post_form(
        client, "/staff/schedule/generate", {"start_month": "2026-04", "length": "1"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/schedule/preview?")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReceptionDay)) == 5

    other = app.test_client()
    liaison = make_user("liaison", workrooms=[room])
    login(other, liaison)
    assert other.get("/staff/schedule/generate").status_code == 403
    assert other.get("/staff/schedule/preview?start=2026-04-01&end=2026-04-30").status_code == 403


# Permissions


def test_a_liaison_of_another_workroom_gets_404(client, db, login_as, room, make_workroom):
    days = _published(db, room)
    rule = db.session.scalar(sa.select(ReceptionRule))
    login_as("liaison", workrooms=[make_workroom()])
    for url in (
        f"/staff/workrooms/{room.id}/schedule",
        f"/staff/workrooms/{room.id}/rules/new",
        f"/staff/workrooms/{room.id}/generate",
        f"/staff/workrooms/{room.id}/preview?start=2026-04-01&end=2026-04-30",
        f"/staff/workrooms/{room.id}/swaps",
        f"/staff/reception-rules/{rule.id}/edit",
        f"/staff/days/{days[0].id}",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf_from(client.get("/staff/schedule").get_data(as_text=True))
    assignment = days[0].assignments[0]
    for url in (
        f"/staff/days/{days[0].id}/cancel",
        f"/staff/days/{days[0].id}/add",
        f"/staff/days/{days[0].id}/assignments/{assignment.id}/remove",
        f"/staff/workrooms/{room.id}/publish",
    ):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    assert len(days[0].assignments) == 2


def test_a_viewer_reads_but_gets_403_on_forms(client, db, login_as, room):
    days = _published(db, room)
    rule = db.session.scalar(sa.select(ReceptionRule))
    login_as("viewer")
    assert client.get(f"/staff/workrooms/{room.id}/schedule").status_code == 200
    assert client.get(f"/staff/days/{days[0].id}").status_code == 200
    page = client.get(f"/staff/days/{days[0].id}").get_data(as_text=True)
    assert "/cancel" not in page
    for url in (
        f"/staff/workrooms/{room.id}/rules/new",
        f"/staff/reception-rules/{rule.id}/edit",
        f"/staff/workrooms/{room.id}/generate",
        f"/staff/workrooms/{room.id}/swaps",
    ):
        assert client.get(url).status_code == 403, url
    token = csrf_from(client.get("/staff/schedule").get_data(as_text=True))
    response = client.post(
        f"/staff/days/{days[0].id}/cancel", data={"csrf_token": token, "cancel-reason": "x"}
    )
    assert response.status_code == 403


def test_posts_without_csrf_are_refused(client, db, login_as, room):
    days = _published(db, room)
    login_as("admin")
    response = client.post(f"/staff/days/{days[0].id}/cancel", data={"cancel-reason": "停电"})
    assert response.status_code == 400
    response = client.post(
        f"/staff/workrooms/{room.id}/publish", data={"start": "2026-04-01", "end": "2026-04-30"}
    )
    assert response.status_code == 400
    assert db.session.get(ReceptionDay, days[0].id).status == "published"


# One day


def test_liaison_replaces_adds_removes_and_cancels(client, db, login_as, room):
    days = _published(db, room)
    day = days[0]
    login_as("liaison", workrooms=[room])
    page = f"/staff/days/{day.id}"
    first = day.assignments[0]
    on_day = {a.deputy_id for a in day.assignments}
    free = [o.deputy for o in changes.propose_substitutes(day)]
    assert free and not on_day & {d.id for d in free}

    response = _post(
        client,
        page,
        f"/staff/days/{day.id}/assignments/{first.id}/replace",
        {"deputy_id": free[0].id},
        prefix=f"a{first.id}",
    )
    assert response.status_code == 302
    db.session.expire_all()
    day = db.session.get(ReceptionDay, day.id)
    assert free[0].id in {a.deputy_id for a in day.assignments} and day.sequence == 1

    response = _post(
        client, page, f"/staff/days/{day.id}/add", {"deputy_id": free[1].id}, prefix="add"
    )
    assert response.status_code == 302
    db.session.expire_all()
    day = db.session.get(ReceptionDay, day.id)
    assert len(day.assignments) == 3

    target = day.assignments[-1]
    response = _post(client, page, f"/staff/days/{day.id}/assignments/{target.id}/remove", {})
    assert response.status_code == 302

    response = _post(client, page, f"/staff/days/{day.id}/cancel", {"reason": ""}, prefix="cancel")
    assert response.status_code == 400
    response = _post(
        client, page, f"/staff/days/{day.id}/cancel", {"reason": "街道停电"}, prefix="cancel"
    )
    assert response.status_code == 302
    db.session.expire_all()
    day = db.session.get(ReceptionDay, day.id)
    assert (day.status, day.cancel_reason, day.sequence) == ("cancelled", "街道停电", 4)
    text = client.get(page).get_data(as_text=True)
    assert "街道停电" in text and "/replace" not in text


def test_refused_changes_answer_with_the_reason(
    client, db, login_as, room, make_workroom, make_deputy
):
    days = _published(db, room)
    day = days[0]
    stranger = make_deputy(name="外来代表")
    login_as("liaison", workrooms=[room])
    page = f"/staff/days/{day.id}"
    # Not one of the offered deputies.
    response = _post(
        client, page, f"/staff/days/{day.id}/add", {"deputy_id": stranger.id}, prefix="add"
    )
    assert response.status_code == 400
    response = _post(client, page, f"/staff/days/{day.id}/add", {"deputy_id": "abc"}, prefix="add")
    assert response.status_code == 400
    # Busy at another workroom at the same time.
    other = make_workroom(name="荷塘街道代表联络站")
    reception_rules.create_rule(
        other,
        rrule="FREQ=WEEKLY;BYDAY=WE",
        starts_at_time=dt.time(10),
        ends_at_time=dt.time(12),
        deputies_needed=1,
        capacity=5,
        valid_from=D(2026, 1, 1),
    )
    free = changes.propose_substitutes(day)[0].deputy
    free.workrooms.append(other)
    db.session.commit()
    periods.generate_period(other, D(2026, 4, 1), D(2026, 4, 1), NOW)
    db.session.commit()
    elsewhere = db.session.scalar(
        sa.select(ReceptionDay).where(ReceptionDay.workroom_id == other.id)
    )
    assert [a.deputy_id for a in elsewhere.assignments] == [free.id]
    response = _post(
        client, page, f"/staff/days/{day.id}/add", {"deputy_id": free.id}, prefix="add", headers=EN
    )
    assert response.status_code == 400
    assert "already holds a reception day at 荷塘街道代表联络站" in response.get_data(as_text=True)
    assert "(busy elsewhere at that time)" in response.get_data(as_text=True)
    other_assignment = day.assignments[0]
    response = client.get(f"/staff/days/{elsewhere.id}")
    assert response.status_code == 404
    response = _post(client, page, f"/staff/days/{day.id}/assignments/999999/remove", {})
    assert response.status_code == 404
    assert other_assignment.deputy_id in {a.deputy_id for a in day.assignments}


# Swaps and a deputy's own days


def test_deputy_confirms_declines_and_asks_to_swap(client, app, db, login_as, room, make_user):
    days = _published(db, room)
    mine = days[0].assignments[0]
    deputy = mine.deputy
    others = [a for d in days for a in d.assignments if a.deputy_id != deputy.id]
    user = login_as("deputy", deputy=deputy)
    page = client.get("/staff/my-days", headers=EN).get_data(as_text=True)
    own_days = [d for d in days if deputy.id in {a.deputy_id for a in d.assignments}]
    assert page.count("I will attend") == len(own_days)
    assert f"/staff/my-days/{others[0].id}/" not in page

    assert (
        _post(client, "/staff/my-days", f"/staff/my-days/{mine.id}/confirm", {}).status_code == 302
    )
    db.session.refresh(mine)
    assert mine.status == "confirmed"
    assert (
        _post(client, "/staff/my-days", f"/staff/my-days/{others[0].id}/confirm", {}).status_code
        == 404
    )

    response = _post(
        client,
        "/staff/my-days",
        f"/staff/my-days/{mine.id}/swap",
        {"reason": ""},
        prefix=f"s{mine.id}",
    )
    assert response.status_code == 400
    response = _post(
        client,
        "/staff/my-days",
        f"/staff/my-days/{mine.id}/swap",
        {"reason": "外地出差"},
        prefix=f"s{mine.id}",
    )
    assert response.status_code == 302
    swap = db.session.scalar(sa.select(SwapRequest))
    assert (swap.deputy_id, swap.reason, swap.status) == (deputy.id, "外地出差", "pending")
    assert user.deputy_id == deputy.id

    # The deputy may not see the liaison's swap page.
    assert client.get(f"/staff/workrooms/{room.id}/swaps").status_code == 403

    second = next(a for d in own_days[1:] for a in d.assignments if a.deputy_id == deputy.id)
    assert (
        _post(client, "/staff/my-days", f"/staff/my-days/{second.id}/decline", {}).status_code
        == 302
    )
    db.session.refresh(second)
    assert second.status == "declined"

    liaison = app.test_client()
    login(liaison, make_user("liaison", workrooms=[room]))
    swaps_page = liaison.get(f"/staff/workrooms/{room.id}/swaps", headers=EN).get_data(as_text=True)
    assert "外地出差" in swaps_page
    best = changes.propose_substitutes(swap.reception_day)[0].deputy
    assert f'<option selected value="{best.id}">' in swaps_page
    response = _post(
        liaison,
        f"/staff/workrooms/{room.id}/swaps",
        f"/staff/swaps/{swap.id}/approve",
        {"deputy_id": best.id},
        prefix=f"s{swap.id}",
    )
    assert response.status_code == 302
    db.session.expire_all()
    swap = db.session.get(SwapRequest, swap.id)
    assert swap.status == "approved"
    assert best.id in {a.deputy_id for a in swap.reception_day.assignments}
    assert deputy.id not in {a.deputy_id for a in swap.reception_day.assignments}


def test_only_deputies_have_my_days(client, db, login_as):
    login_as("viewer")
    assert client.get("/staff/my-days").status_code == 403


def test_index_lists_the_users_workrooms(client, db, login_as, room, make_workroom):
    make_workroom(name="别人的工作室")
    _published(db, room)
    login_as("liaison", workrooms=[room])
    text = client.get("/staff/schedule").get_data(as_text=True)
    assert "下摄司街道代表工作室" in text and "别人的工作室" not in text


def test_index_counts_what_waits_in_each_workroom(client, db, login_as, room, make_workroom):
    quiet = make_workroom(name="荷塘街道代表联络站")
    days = _published(db, room)
    periods.generate_period(room, D(2026, 5, 1), D(2026, 5, 31), NOW)
    deputy_days.request_swap(days[1].assignments[0], "外地出差", NOW)
    db.session.commit()
    drafts = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ReceptionDay)
        .where(ReceptionDay.workroom_id == room.id, ReceptionDay.status == "draft")
    )
    summaries = workroom_summaries(sa.select(Workroom), NOW)
    assert [(s.workroom.id, s.next_day_at, s.drafts, s.swaps_waiting) for s in summaries] == [
        (room.id, days[0].starts_at, drafts, 1),
        (quiet.id, None, 0, 0),
    ]
    # Once the first day has begun, the next one is the second.
    assert workroom_summaries(sa.select(Workroom), days[0].starts_at)[0].next_day_at == (
        days[1].starts_at
    )

    login_as("liaison", workrooms=[room])
    text = client.get("/staff/schedule", headers=EN).get_data(as_text=True)
    row = text[text.index("下摄司街道代表工作室") :].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    assert "Apr 1, 2026" in cells[0] and cells[1:] == [str(drafts), "1"]
    assert "荷塘街道代表联络站" not in text


def test_empty_places_are_explained_in_the_readers_language(client, db, login_as, room):
    day = _published(db, room)[0]
    changes.remove_deputy(day, day.assignments[0].deputy, NOW)
    db.session.commit()
    login_as("liaison", workrooms=[room])
    for page in (f"/staff/days/{day.id}", f"/staff/workrooms/{room.id}/schedule"):
        english = client.get(page, headers=EN).get_data(as_text=True)
        chinese = client.get(page, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert "needs 2 deputies, 1 assigned" in english and "需要2名代表" not in english
        assert "需要2名代表，已安排1名" in chinese and "needs 2 deputies" not in chinese
