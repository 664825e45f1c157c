"""The retention jobs remove what the privacy notice promises, and a second run changes
nothing: visitors' names, numbers and hashes; the citizens of suggestions closed long
ago (from a visit or added by staff); the numbers inside free text; the recipients
and texts of old messages. Statistics stay."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from tests.conftest import login
from workroom.audit.models import AuditEvent
from workroom.categories.models import Category
from workroom.errors import Conflict
from workroom.jobs import JOBS, job_named
from workroom.outbox.models import OutboxMessage
from workroom.outbox.queue import queue_email, queue_sms, retry_message
from workroom.outbox.retention import purge_messages
from workroom.retention import KINDS
from workroom.suggestions.models import (
    ExtensionRequest,
    Suggestion,
    SuggestionAgency,
    SuggestionCitizen,
    SuggestionEvent,
)
from workroom.suggestions.retention import purge_suggestion_citizens
from workroom.visits.checkin import visitor_phone_hash
from workroom.visits.models import Visit
from workroom.visits.privacy_notice import privacy_notice
from workroom.visits.retention import purge_visitor_data

NOW = dt.datetime(2026, 12, 2, 19, 41)
# Two purge runs 30 months ahead.
AHEAD = NOW + relativedelta(months=30)
LONG_AGO = NOW - dt.timedelta(days=2 * 366)
RECENTLY = AHEAD - dt.timedelta(days=30)
PHONE = "13912345678"
ID_NUMBER = "430302199001011234"
FREE_TEXT = f"我叫李四，电话{PHONE}，身份证{ID_NUMBER}，楼道灯坏了3个月"
MASKED = "我叫李四，电话***********，身份证******************，楼道灯坏了3个月"


def _purge_all(now: dt.datetime) -> dict[str, object]:
    return {
        "visits": purge_visitor_data(now),
        "suggestions": purge_suggestion_citizens(now),
        "messages": purge_messages(now),
    }


@pytest.fixture
def world(db, make_workroom, make_agency):
    workroom = make_workroom()
    agency = make_agency()
    category = db.session.scalar(sa.select(Category).where(Category.code == "health"))

    def visit(code: str, arrived: dt.datetime, phone: str | None = PHONE) -> Visit:
        row = Visit(
            workroom_id=workroom.id,
            channel="kiosk",
            kind="checkin",
            category_id=category.id,
            visitor_name="李秀英",
            phone=phone,
            phone_hash=visitor_phone_hash(phone) if phone else None,
            description=FREE_TEXT,
            receipt_code=code,
            status="done",
            arrived_at=arrived,
            called_at=arrived + dt.timedelta(minutes=5),
            started_at=arrived + dt.timedelta(minutes=6),
            ended_at=arrived + dt.timedelta(minutes=20),
            summary=f"回电 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}",
            notes="已电话联系",
            outcome="suggestion",
        )
        db.session.add(row)
        db.session.flush()
        return row

    def suggestion(
        code: str,
        status: str,
        closed_at: dt.datetime | None,
        citizens: list[Visit | None],
        **fields,
    ) -> Suggestion:
        s = Suggestion(
            tracking_code=code,
            title=f"周末门诊 {PHONE}",
            content=FREE_TEXT,
            category_id=category.id,
            area_id=workroom.area_id,
            workroom_id=workroom.id,
            source="visit",
            status=status,
            closed_at=closed_at,
            reply_text=f"已联系 {PHONE}",
            reply_class="A" if status == "closed" else None,
            lead_agency_id=agency.id,
            **fields,
        )
        db.session.add(s)
        db.session.flush()
        for n, source in enumerate(citizens):
            db.session.add(
                SuggestionCitizen(
                    suggestion_id=s.id,
                    visit_id=source.id if source else None,
                    name=f"王{n}",
                    phone=PHONE,
                    satisfaction="satisfied",
                    follow_up_note=f"回访 {PHONE}",
                )
            )
        db.session.add(SuggestionEvent(suggestion_id=s.id, kind="followed_up", note=FREE_TEXT))
        db.session.add(SuggestionAgency(suggestion_id=s.id, agency_id=agency.id, opinion=FREE_TEXT))
        db.session.add(
            ExtensionRequest(
                suggestion_id=s.id,
                agency_id=agency.id,
                requested_due=NOW.date(),
                reason=FREE_TEXT,
            )
        )
        db.session.flush()
        return s

    old_visit = visit("OLD00001", LONG_AGO)
    anonymous = visit("OLD00002", LONG_AGO, phone=None)
    recent_visit = visit("NEW00001", RECENTLY)
    closed = suggestion("TRK0001", "closed", LONG_AGO, [old_visit, None, None])
    merged = suggestion("TRK0002", "merged", None, [None], merged_into_id=closed.id)
    # Raised long ago from the old visit, still open: its citizens stay.
    still_open = suggestion("TRK0003", "assigned", None, [old_visit, None])
    closed_recently = suggestion("TRK0004", "closed", RECENTLY, [recent_visit, None])
    db.session.commit()
    return {
        "old_visit": old_visit,
        "anonymous": anonymous,
        "recent_visit": recent_visit,
        "closed": closed,
        "merged": merged,
        "open": still_open,
        "closed_recently": closed_recently,
    }


def _citizens(db, s: Suggestion) -> list[SuggestionCitizen]:
    return db.session.scalars(
        sa.select(SuggestionCitizen).where(SuggestionCitizen.suggestion_id == s.id)
    ).all()


def _free_text_of(db, s: Suggestion) -> list[str]:
    texts = [s.title, s.content, s.reply_text]
    texts += [c.follow_up_note for c in _citizens(db, s)]
    for model, column in (
        (SuggestionEvent, SuggestionEvent.note),
        (SuggestionAgency, SuggestionAgency.opinion),
        (ExtensionRequest, ExtensionRequest.reason),
    ):
        texts += db.session.scalars(sa.select(column).where(model.suggestion_id == s.id)).all()
    return texts


def test_visits_lose_names_numbers_and_the_numbers_in_their_text(db, world):
    assert _purge_all(AHEAD)["visits"] == {"visits": 2}
    db.session.commit()
    db.session.expire_all()

    old = db.session.get(Visit, world["old_visit"].id)
    assert (old.visitor_name, old.phone, old.phone_hash) == (None, None, None)
    assert old.purged_at == AHEAD
    assert old.description == MASKED
    assert old.summary == "回电 *** **** ****"
    assert old.notes == "已电话联系"
    # The statistics stay.
    assert old.category_id is not None and old.outcome == "suggestion"
    assert old.arrived_at and old.called_at and old.started_at and old.ended_at
    recent = db.session.get(Visit, world["recent_visit"].id)
    assert recent.phone == PHONE and recent.description == FREE_TEXT and recent.purged_at is None


def test_citizens_of_suggestions_closed_long_ago_go_whoever_added_them(db, world):
    counts = _purge_all(AHEAD)["suggestions"]
    db.session.commit()
    db.session.expire_all()

    # The closed one (a visit's citizen and two added by staff) and the one merged into it.
    assert counts == {"suggestions": 2, "citizens": 4}
    for key in ("closed", "merged"):
        s = db.session.get(Suggestion, world[key].id)
        assert s.purged_at == AHEAD
        for citizen in _citizens(db, s):
            assert (citizen.name, citizen.phone, citizen.purged_at) == (None, None, AHEAD)
            assert citizen.satisfaction == "satisfied"
        texts = _free_text_of(db, s)
        assert all(PHONE not in t and ID_NUMBER not in t for t in texts), texts
        assert MASKED in texts
        assert s.reply_class == ("A" if key == "closed" else None)
    for key in ("open", "closed_recently"):
        s = db.session.get(Suggestion, world[key].id)
        assert s.purged_at is None
        assert all(c.phone == PHONE and c.name for c in _citizens(db, s))
        assert s.content == FREE_TEXT


def test_an_open_suggestion_keeps_its_citizens_after_its_visit_is_purged(db, world):
    _purge_all(AHEAD)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Visit, world["old_visit"].id).phone is None
    from_visit = [c for c in _citizens(db, world["open"]) if c.visit_id]
    assert from_visit and from_visit[0].phone == PHONE


def test_a_second_run_changes_nothing(db, world):
    _purge_all(AHEAD)
    db.session.commit()
    events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    snapshot = {
        table: db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
        for table in (
            Visit.__table__,
            Suggestion.__table__,
            SuggestionCitizen.__table__,
            SuggestionEvent.__table__,
            SuggestionAgency.__table__,
            ExtensionRequest.__table__,
        )
    }

    assert _purge_all(AHEAD + dt.timedelta(hours=1)) == {
        "visits": {"visits": 0},
        "suggestions": {"suggestions": 0, "citizens": 0},
        "messages": 0,
    }
    db.session.commit()
    for table, rows in snapshot.items():
        assert (
            db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).all() == rows
        ), table.name
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events


def test_each_purge_is_audited_without_numbers(db, world):
    _purge_all(AHEAD)
    db.session.commit()
    summaries = db.session.scalars(
        sa.select(AuditEvent.summary).where(AuditEvent.action.like("%.purge"))
    ).all()
    assert len(summaries) == 2
    assert not any(PHONE in s for s in summaries)


def test_the_retention_period_is_configurable(app, db, world):
    app.config["VISITOR_RETENTION_MONTHS"] = 1
    later = AHEAD + relativedelta(months=2)
    assert purge_visitor_data(later)["visits"] == 3
    assert purge_suggestion_citizens(later)["suggestions"] == 3


def test_messages_lose_recipient_and_text_after_their_period(app, db):
    old = AHEAD - dt.timedelta(days=120)
    sms = queue_sms("test:sms", PHONE, "receipt", {"code": "ABC"}, old)
    email = queue_email("test:email", "li.si@example.org", "提醒", f"请回电 {PHONE}", old)
    waiting = queue_sms("test:waiting", PHONE, "receipt", {"code": "DEF"}, old)
    fresh = queue_sms("test:fresh", PHONE, "receipt", {"code": "GHI"}, AHEAD)
    for message in (sms, email):
        message.status = "sent"
    fresh.status = "sent"
    db.session.commit()

    assert purge_messages(AHEAD) == 2
    db.session.commit()
    db.session.expire_all()
    sms, email = db.session.get(OutboxMessage, sms.id), db.session.get(OutboxMessage, email.id)
    assert sms.recipient == "139****5678" and sms.sms_params == "{}"
    assert email.recipient == "l***@example.org" and email.body == ""
    assert email.subject == "提醒" and email.sent_at is None or email.status == "sent"
    assert db.session.get(OutboxMessage, waiting.id).recipient == PHONE
    assert db.session.get(OutboxMessage, fresh.id).recipient == PHONE
    assert purge_messages(AHEAD + dt.timedelta(hours=1)) == 0

    sms.status = "failed"
    with pytest.raises(Conflict):
        retry_message(sms, AHEAD)


def test_every_purge_is_a_job(app):
    names = {job.name for job in JOBS}
    assert {"purge_visitor_data", "purge_suggestion_citizens", "purge_messages"} <= names
    assert {"purge_citizen_attachments", "purge_audit"} <= names
    assert job_named("purge_visitor_data").function is purge_visitor_data


def test_the_job_table_runs_the_purges(app, db, world):
    from workroom.runner.scheduler import run_job

    for name in ("purge_visitor_data", "purge_suggestion_citizens", "purge_messages"):
        assert run_job(app, job_named(name))


# Said where it is promised


def test_the_privacy_notice_states_the_periods_and_what_free_text_keeps(app):
    with app.test_request_context("/?lang=en"):
        notice = privacy_notice()
    assert "24 months after your visit" in notice.retention
    assert "after it is closed" in notice.retention
    assert "phone or ID number in it masked" in notice.retention


def test_the_older_notice_stays_known(app):
    with app.test_request_context("/"):
        assert privacy_notice("2026-11").version == "2026-11"


def test_the_settings_page_lists_every_kind(app, client, db, make_user):
    admin = make_user("admin")
    login(client, admin)
    page = client.get("/staff/settings?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for kind in KINDS:
        with app.test_request_context("/?lang=en"):
            assert str(kind.what).replace("'", "&#39;") in text
    assert "24 months" in text and "190 days" in text and "90 days" in text


def test_the_settings_page_is_for_admins(client, make_user):
    login(client, make_user("viewer"))
    assert client.get("/staff/settings").status_code == 403
