"""Reminders before reception days, the confirm/decline links in them, and the alert to
liaisons about days still unconfirmed."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from tests.test_public_schedule import add_day, utc
from workroom.audit.models import AuditEvent
from workroom.outbox.models import OutboxMessage
from workroom.schedule.models import Assignment, ReceptionDay
from workroom.schedule.reminders import queue_deputy_reminder, send_reminders
from workroom.schedule.tokens import load_assignment_token, make_assignment_token
from workroom.schedule.views import public

DAY = dt.date(2026, 3, 10)  # a Tuesday; the reception runs 09:00–11:30 in Shanghai
THREE_DAYS_BEFORE = utc(dt.date(2026, 3, 7), 9, 5)
TWO_DAYS_BEFORE = utc(dt.date(2026, 3, 8), 9, 5)
EVENING_BEFORE = utc(dt.date(2026, 3, 9), 18, 5)


@pytest.fixture
def room(make_workroom):
    return make_workroom(name="下摄司街道代表工作室", slug="xiasheshi", phone="073158581234")


@pytest.fixture
def people(db, room, make_deputy):
    """Two deputies with email and mobile, one with a mobile only, one who declined."""
    return {
        "zhang": make_deputy(name="张建国", email="zhang@example.cn", phone="13800138000"),
        "li": make_deputy(name="李秀英", email="li@example.cn"),
        "sms_only": make_deputy(name="王短信", phone="139 0013 9000"),
        "declined": make_deputy(name="赵婉拒", email="zhao@example.cn", phone="13700137000"),
    }


@pytest.fixture
def day(db, room, people):
    row = add_day(db, room, DAY, [people["zhang"], people["li"], people["sms_only"]])
    row.assignments.append(Assignment(deputy_id=people["declined"].id, status="declined"))
    db.session.commit()
    return row


def messages(db, prefix: str = "") -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.dedupe_key.startswith(prefix))
        .order_by(OutboxMessage.dedupe_key)
    ).all()


def run_twice(db, now: dt.datetime) -> None:
    for _ in range(2):
        send_reminders(now)
        db.session.commit()


def test_three_days_before_each_deputy_is_reminded_once(db, day, people):
    send_reminders(THREE_DAYS_BEFORE - dt.timedelta(minutes=10))
    assert messages(db) == []

    run_twice(db, THREE_DAYS_BEFORE)
    zhang, li, sms = people["zhang"].id, people["li"].id, people["sms_only"].id
    assert [m.dedupe_key for m in messages(db)] == sorted(
        [
            f"reminder:{day.id}:{zhang}:days_before:0:email",
            f"reminder:{day.id}:{zhang}:days_before:0:sms",
            f"reminder:{day.id}:{li}:days_before:0:email",
            f"reminder:{day.id}:{sms}:days_before:0:sms",
        ]
    )
    email = next(m for m in messages(db) if m.recipient == "zhang@example.cn")
    assert "下摄司街道代表工作室" in email.subject
    assert "09:00–11:30" in email.body and "李秀英" in email.body
    assert "http://workroom.test/r/" in email.body
    sms = next(m for m in messages(db) if m.channel == "sms" and m.recipient == "13900139000")
    assert sms.sms_template == "RECEPTION_REMINDER"
    params = json.loads(sms.sms_params)
    assert set(params) == {"date", "time", "workroom"}
    assert params["time"] == "09:00–11:30" and params["workroom"] == "下摄司街道代表工作室"
    assert "2026" in params["date"]
    # Nothing for the deputy who declined, and no liaison alert yet.
    assert not [m for m in messages(db) if str(people["declined"].id) in m.dedupe_key.split(":")]
    assert messages(db, "unconfirmed:") == []


def test_evening_before_reminder_follows_the_earlier_one(db, day, people):
    run_twice(db, THREE_DAYS_BEFORE)
    run_twice(db, EVENING_BEFORE)
    kinds = [m.dedupe_key.split(":")[3] for m in messages(db, "reminder:")]
    assert kinds.count("days_before") == 4 and kinds.count("evening_before") == 4
    evening = next(
        m
        for m in messages(db, "reminder:")
        if "evening_before" in m.dedupe_key
        and m.channel == "email"
        and m.recipient == "li@example.cn"
    )
    assert "09:00–11:30" in evening.subject


def test_a_late_run_sends_only_the_latest_reminder_and_nothing_once_begun(db, day, people):
    # The runner was down from before the third day until the evening before.
    run_twice(db, EVENING_BEFORE + dt.timedelta(hours=3))
    kinds = {m.dedupe_key.split(":")[3] for m in messages(db, "reminder:")}
    assert kinds == {"evening_before"}

    db.session.execute(sa.delete(OutboxMessage))
    db.session.commit()
    run_twice(db, utc(DAY, 9, 0))
    run_twice(db, utc(DAY, 12, 0))
    assert messages(db) == []


def test_a_day_published_on_the_morning_itself_is_announced_for_today(db, day, people):
    from flask_babel import force_locale, gettext

    run_twice(db, utc(DAY, 7, 30))
    subjects = {m.subject for m in messages(db, "reminder:") if m.channel == "email"}
    with force_locale("zh_Hans_CN"):
        today = gettext(
            "Today %(time)s: reception day at %(workroom)s",
            time="09:00–11:30",
            workroom="下摄司街道代表工作室",
        )
    assert subjects == {today}


def test_nothing_for_drafts_cancelled_days_or_inactive_workrooms(db, room, people, make_workroom):
    add_day(db, room, DAY, [people["zhang"]], status="draft")
    add_day(db, room, DAY, [people["li"]], status="cancelled", start=(14, 0), end=(16, 0))
    closed = make_workroom(active=False)
    add_day(db, closed, DAY, [people["zhang"]], start=(15, 0), end=(16, 0))
    run_twice(db, EVENING_BEFORE)
    assert messages(db) == []


def test_a_changed_day_is_announced_again(db, day, people):
    run_twice(db, THREE_DAYS_BEFORE)
    day.sequence += 1
    db.session.commit()
    run_twice(db, THREE_DAYS_BEFORE + dt.timedelta(hours=1))
    keys = [m.dedupe_key for m in messages(db, f"reminder:{day.id}:{people['zhang'].id}:")]
    assert [k.split(":")[4] for k in keys].count("1") == 2
    assert len(keys) == 4


def test_unconfirmed_alert_reaches_the_workrooms_liaisons_once(
    db, day, people, room, make_user, make_workroom
):
    liaison = make_user("liaison", workrooms=[room])
    liaison.email = "liaison@example.cn"
    make_user("liaison", workrooms=[room])  # no email: skipped
    elsewhere = make_user("liaison", workrooms=[make_workroom()])
    elsewhere.email = "other@example.cn"
    day.assignments[1].status = "confirmed"  # 李秀英
    db.session.commit()

    run_twice(db, THREE_DAYS_BEFORE)
    assert messages(db, "unconfirmed:") == []
    run_twice(db, TWO_DAYS_BEFORE)
    (alert,) = messages(db, "unconfirmed:")
    assert alert.dedupe_key == f"unconfirmed:{day.id}:0:{liaison.id}"
    assert alert.recipient == "liaison@example.cn"
    assert "张建国" in alert.body and "王短信" in alert.body
    assert "李秀英" not in alert.body and "赵婉拒" not in alert.body


def test_no_unconfirmed_alert_when_everyone_confirmed(db, day, room, make_user):
    liaison = make_user("liaison", workrooms=[room])
    liaison.email = "liaison@example.cn"
    for assignment in day.assignments:
        if assignment.status == "assigned":
            assignment.status = "confirmed"
    db.session.commit()
    run_twice(db, TWO_DAYS_BEFORE)
    assert messages(db, "unconfirmed:") == []


def _link(body: str, word: str) -> str:
    links = re.findall(r"http://workroom\.test(/r/[A-Za-z0-9_.-]+)", body)
    assert len(links) == 2, body
    for path in links:
        loaded = load_assignment_token(path.removeprefix("/r/"))
        if loaded and loaded[1] == word:
            return path
    raise AssertionError(f"no {word} link")


@pytest.fixture
def before_the_day(monkeypatch):
    monkeypatch.setattr(public, "utcnow", lambda: THREE_DAYS_BEFORE + dt.timedelta(hours=1))


def test_the_confirm_link_confirms_the_assignment(client, db, day, people, before_the_day):
    run_twice(db, THREE_DAYS_BEFORE)
    email = next(m for m in messages(db) if m.recipient == "zhang@example.cn")
    path = _link(email.body, "confirm")

    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "张建国" in html and "2026年3月10日" in html and "09:00–11:30" in html
    assert 'class="site-nav"' not in html

    from tests.conftest import csrf_from

    response = client.post(path, data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302
    assignment = db.session.scalar(
        sa.select(Assignment).where(Assignment.deputy_id == people["zhang"].id)
    )
    assert assignment.status == "confirmed" and assignment.confirmed_at is not None
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "assignment.confirm"))
    # Confirming again changes nothing; the page says it is done.
    again = client.post(
        path, data={"csrf_token": csrf_from(client.get(path).get_data(as_text=True))}
    )
    assert again.status_code == 302
    assert db.session.get(ReceptionDay, day.id).sequence == 0


def test_the_decline_link_declines_and_tells_the_liaison(
    client, db, day, people, room, make_user, before_the_day
):
    from tests.conftest import csrf_from

    liaison = make_user("liaison", workrooms=[room])
    liaison.email = "liaison@example.cn"
    db.session.commit()
    run_twice(db, THREE_DAYS_BEFORE)
    email = next(m for m in messages(db) if m.recipient == "li@example.cn")
    path = _link(email.body, "decline")
    response = client.post(
        path, data={"csrf_token": csrf_from(client.get(path).get_data(as_text=True))}
    )
    assert response.status_code == 302

    assignment = db.session.scalar(
        sa.select(Assignment).where(Assignment.deputy_id == people["li"].id)
    )
    assert assignment.status == "declined"
    assert db.session.get(ReceptionDay, day.id).sequence == 1
    (alert,) = messages(db, "declined:")
    assert alert.dedupe_key == f"declined:{day.id}:{people['li'].id}:{liaison.id}"
    assert "李秀英" in alert.subject
    # The declined deputy is not reminded again for the changed day.
    run_twice(db, EVENING_BEFORE)
    assert not messages(db, f"reminder:{day.id}:{people['li'].id}:evening_before")


def test_reply_links_refuse_forgery_cancelled_days_and_missing_csrf(
    client, db, day, people, before_the_day
):
    assert client.get("/r/forged-token").status_code == 404
    zhang = day.assignments[0]
    path = f"/r/{make_assignment_token(zhang.id, 'confirm')}"
    assert client.post(path, data={}).status_code == 400

    day.status, day.cancel_reason = "cancelled", "区人代会"
    db.session.commit()
    from tests.conftest import csrf_from

    page = client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert (
        "This reception day was cancelled." in html and "<button" not in html.split("</form>")[-1]
    )
    response = client.post(path, data={"csrf_token": csrf_from(html)})
    assert response.status_code == 409
    assert db.session.get(Assignment, zhang.id).status == "assigned"


def test_publication_notice_can_be_queued_by_the_publishing_code(db, day, people):
    zhang = day.assignments[0]
    assert queue_deputy_reminder(zhang, "published", THREE_DAYS_BEFORE) == 2
    assert queue_deputy_reminder(zhang, "published", THREE_DAYS_BEFORE) == 2
    db.session.commit()
    assert len(messages(db, f"reminder:{day.id}:{people['zhang'].id}:published:0:")) == 2


def test_settings_move_the_moments(app, db, day, people):
    app.config.update(REMINDER_DAYS_BEFORE=5, REMINDER_EVENING_HOUR=20, UNCONFIRMED_ALERT_DAYS=4)
    run_twice(db, utc(dt.date(2026, 3, 5), 9, 5))
    assert {m.dedupe_key.split(":")[3] for m in messages(db, "reminder:")} == {"days_before"}
    run_twice(db, utc(dt.date(2026, 3, 9), 19, 0))
    assert "evening_before" not in {m.dedupe_key.split(":")[3] for m in messages(db)}
    run_twice(db, utc(dt.date(2026, 3, 9), 20, 0))
    assert "evening_before" in {m.dedupe_key.split(":")[3] for m in messages(db, "reminder:")}
