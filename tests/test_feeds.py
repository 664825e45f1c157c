"""iCalendar feeds: the public feed of a workroom and each deputy's private feed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from tests.conftest import login, post_form
from tests.test_public_schedule import NOW, SHANGHAI, add_day
from workroom.audit.models import AuditEvent
from workroom.schedule.feeds import issue_feed_token, revoke_feed_token
from workroom.schedule.models import DeputyFeedToken
from workroom.schedule.views import public


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(public, "utcnow", lambda: NOW)


@pytest.fixture
def room(make_workroom):
    return make_workroom(name="下摄司街道代表工作室", slug="xiasheshi", address="建设路12号")


def events_of(response) -> dict[str, object]:
    calendar = Calendar.from_ical(response.get_data())
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_public_feed_matches_the_published_days(client, db, room, make_deputy):
    zhang = make_deputy(name="张建国", level="municipal", sector="个体工商户")
    li = make_deputy(name="李秀英")
    held = add_day(db, room, dt.date(2026, 3, 4), [zhang, li], sequence=2)
    afternoon = add_day(db, room, dt.date(2026, 3, 6), [li], start=(14, 30), end=(17, 0))
    old = add_day(db, room, dt.date(2025, 12, 10), [li])  # within the 90 days back
    add_day(db, room, dt.date(2025, 11, 20), [li])  # before them
    add_day(db, room, dt.date(2026, 3, 11), [zhang], status="draft")
    add_day(db, room, dt.date(2027, 4, 7), [zhang])  # more than a year ahead

    response = client.get("/w/xiasheshi/schedule.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.get_data())
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    events = events_of(response)
    assert set(events) == {
        f"reception-{held.id}@workroom.test",
        f"reception-{afternoon.id}@workroom.test",
        f"reception-{old.id}@workroom.test",
    }

    event = events[f"reception-{held.id}@workroom.test"]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == dt.datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI)
    assert end == dt.datetime(2026, 3, 4, 11, 30, tzinfo=SHANGHAI)
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event["SEQUENCE"] == 2
    assert event["STATUS"] == "CONFIRMED"
    assert "张建国" in str(event["SUMMARY"]) and "李秀英" in str(event["SUMMARY"])
    assert str(event["LOCATION"]) == "下摄司街道代表工作室，建设路12号"
    assert str(event["URL"]) == "http://workroom.test/w/xiasheshi"
    assert "个体工商户" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTAMP") == NOW.replace(tzinfo=dt.UTC)
    later = events[f"reception-{afternoon.id}@workroom.test"]
    assert later.decoded("DTSTART") == dt.datetime(2026, 3, 6, 14, 30, tzinfo=SHANGHAI)
    assert "\r\n" in response.get_data(as_text=True)


def test_a_cancellation_shows_as_cancelled_with_a_raised_sequence(client, db, room, make_deputy):
    day = add_day(db, room, dt.date(2026, 3, 4), [make_deputy(name="张建国")], sequence=1)
    uid = f"reception-{day.id}@workroom.test"
    before = events_of(client.get("/w/xiasheshi/schedule.ics"))[uid]
    assert before["STATUS"] == "CONFIRMED" and before["SEQUENCE"] == 1

    day.status, day.cancel_reason, day.sequence = "cancelled", "区人代会", day.sequence + 1
    db.session.commit()
    after = events_of(client.get("/w/xiasheshi/schedule.ics"))[uid]
    assert after["STATUS"] == "CANCELLED"
    assert after["SEQUENCE"] == 2
    assert after.decoded("DTSTART") == before.decoded("DTSTART")
    assert "区人代会" in str(after["DESCRIPTION"])


def test_feed_speaks_chinese_by_default_and_english_on_request(client, db, room, make_deputy):
    from flask_babel import force_locale, gettext

    add_day(db, room, dt.date(2026, 3, 4), [make_deputy(name="张建国")])
    english = client.get("/w/xiasheshi/schedule.ics?lang=en")
    (event,) = events_of(english).values()
    assert str(event["SUMMARY"]) == "Deputy reception day: 张建国"
    # A calendar app's own language does not matter: the default locale is used.
    default = client.get("/w/xiasheshi/schedule.ics", headers={"Accept-Language": "en"})
    (event,) = events_of(default).values()
    with force_locale("zh_Hans_CN"):
        expected = gettext("Deputy reception day: %(names)s", names="张建国")
    assert str(event["SUMMARY"]) == expected


def test_empty_feed_is_a_valid_calendar(client, db, room):
    response = client.get("/w/xiasheshi/schedule.ics")
    calendar = Calendar.from_ical(response.get_data())
    assert calendar["VERSION"] == "2.0" and not calendar.walk("VEVENT")


def test_private_feed_lists_the_deputys_own_days_everywhere(
    client, db, room, make_workroom, make_deputy
):
    other_room = make_workroom(name="建设路社区联络站")
    zhang = make_deputy(name="张建国")
    li = make_deputy(name="李秀英")
    mine = add_day(db, room, dt.date(2026, 3, 4), [zhang, li])
    elsewhere = add_day(db, other_room, dt.date(2026, 3, 5), [zhang])
    add_day(db, room, dt.date(2026, 3, 6), [li])
    add_day(db, room, dt.date(2026, 3, 9), [zhang], assignment_status="declined")
    add_day(db, room, dt.date(2026, 3, 10), [zhang], status="draft")

    token = issue_feed_token(zhang, NOW)
    db.session.commit()
    stored = db.session.scalars(sa.select(DeputyFeedToken)).one()
    assert stored.token_hash != token and token not in stored.token_hash

    response = client.get(f"/feeds/deputy/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    events = events_of(response)
    assert set(events) == {
        f"reception-{mine.id}-deputy-{zhang.id}@workroom.test",
        f"reception-{elsewhere.id}-deputy-{zhang.id}@workroom.test",
    }
    event = events[f"reception-{elsewhere.id}-deputy-{zhang.id}@workroom.test"]
    assert "建设路社区联络站" in str(event["SUMMARY"])


def test_revoked_unknown_and_replaced_tokens_answer_404(client, db, room, make_deputy):
    zhang = make_deputy(name="张建国")
    first = issue_feed_token(zhang, NOW)
    db.session.commit()
    assert client.get(f"/feeds/deputy/{first}.ics").status_code == 200

    second = issue_feed_token(zhang, NOW)
    db.session.commit()
    assert client.get(f"/feeds/deputy/{first}.ics").status_code == 404
    assert client.get(f"/feeds/deputy/{second}.ics").status_code == 200

    assert revoke_feed_token(zhang, NOW) is True
    db.session.commit()
    assert client.get(f"/feeds/deputy/{second}.ics").status_code == 404
    assert revoke_feed_token(zhang, NOW) is False
    assert client.get("/feeds/deputy/not-a-token.ics").status_code == 404
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("feed_token.issue") == 2 and actions.count("feed_token.revoke") == 1


def test_inactive_deputys_feed_stops(client, db, make_deputy):
    zhang = make_deputy(name="张建国")
    token = issue_feed_token(zhang, NOW)
    zhang.active = False
    db.session.commit()
    assert client.get(f"/feeds/deputy/{token}.ics").status_code == 404


def _link_on(html: str) -> str:
    match = re.search(r"http://workroom\.test/feeds/deputy/([A-Za-z0-9_-]+)\.ics", html)
    assert match, "no feed link on the page"
    return match.group(0)


def test_deputy_issues_and_revokes_its_own_link(client, db, login_as, make_deputy):
    zhang = make_deputy(name="张建国")
    login_as("deputy", deputy=zhang)
    url = f"/staff/deputies/{zhang.id}/feed"
    assert client.get(url).status_code == 200

    response = post_form(client, url, {"action": "issue"})
    assert response.status_code == 200
    link = _link_on(response.get_data(as_text=True))
    assert client.get(link.removeprefix("http://workroom.test")).status_code == 200
    # Shown once: the page no longer holds it.
    assert "/feeds/deputy/" not in client.get(url).get_data(as_text=True)

    response = post_form(client, url, {"action": "revoke"})
    assert response.status_code == 302
    assert client.get(link.removeprefix("http://workroom.test")).status_code == 404


def test_feed_link_page_scope(app, client, db, login_as, make_deputy, make_workroom, make_user):
    room = make_workroom()
    zhang = make_deputy(name="张建国", workrooms=[room])
    li = make_deputy(name="李秀英")
    login_as("deputy", deputy=li)
    assert client.get(f"/staff/deputies/{zhang.id}/feed").status_code == 404
    assert (
        post_form(client, f"/staff/deputies/{li.id}/feed", {"action": "issue"}).status_code == 200
    )

    client = app.test_client()
    login(client, make_user("liaison", workrooms=[room]))
    url = f"/staff/deputies/{zhang.id}/feed"
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="issue"' not in page.get_data(as_text=True)
    assert post_form(client, url, {"action": "issue"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeputyFeedToken)) == 1

    client = app.test_client()
    login(client, make_user("admin"))
    assert post_form(client, url, {"action": "issue"}).status_code == 200
    assert client.get(f"/staff/deputies/{zhang.id}/feed").status_code == 200
    assert client.get("/staff/deputies/999999/feed").status_code == 404


def test_feed_link_page_needs_sign_in(client, db, make_deputy):
    zhang = make_deputy()
    response = client.get(f"/staff/deputies/{zhang.id}/feed")
    assert response.status_code in (302, 401)
