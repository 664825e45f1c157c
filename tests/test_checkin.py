"""Check-in domain: reception hours, who is on duty, tickets, receipts, idempotency,
messages outside hours and visits logged by staff."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from workroom.errors import Conflict, DomainError

# Wednesday 4 March 2026, an ordinary working day; times below are local (UTC+8).
WEDNESDAY = dt.date(2026, 3, 4)


def utc(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """Naive UTC for a local wall-clock time in Asia/Shanghai."""
    return dt.datetime.combine(day, dt.time(hour, minute)) - dt.timedelta(hours=8)


@pytest.fixture
def workroom(make_workroom):
    return make_workroom(liaison_hours="09:00-12:00,14:30-17:30")


@pytest.fixture
def make_reception_day(db):
    from workroom.schedule.models import Assignment, ReceptionDay

    def make(workroom, day, start=(9, 0), end=(11, 30), deputies=(), status="published", **kw):
        reception = ReceptionDay(
            workroom_id=workroom.id,
            day=day,
            starts_at=utc(day, *start),
            ends_at=utc(day, *end),
            deputies_needed=max(len(deputies), 1),
            status=status,
            assignments=[
                Assignment(deputy_id=d.id, status=s)
                for d, s in (x if isinstance(x, tuple) else (x, "assigned") for x in deputies)
            ],
            **kw,
        )
        db.session.add(reception)
        db.session.commit()
        return reception

    return make


def category(db, code="environment-noise"):
    from workroom.categories.models import Category

    return db.session.scalars(sa.select(Category).where(Category.code == code)).one()


def request_for(db, **kw):
    from workroom.visits.checkin import CheckinRequest

    return CheckinRequest(category_id=category(db).id, **kw)


def visits(db):
    from workroom.visits.models import Visit

    return db.session.scalars(sa.select(Visit).order_by(Visit.id)).all()


# Reception hours and duty


@pytest.mark.parametrize(
    ("day", "hour", "minute", "receiving"),
    [
        (WEDNESDAY, 9, 0, True),
        (WEDNESDAY, 11, 59, True),
        (WEDNESDAY, 12, 0, False),  # lunch
        (WEDNESDAY, 14, 30, True),
        (WEDNESDAY, 8, 59, False),
        (WEDNESDAY, 17, 30, False),
        (dt.date(2026, 3, 7), 10, 0, False),  # Saturday
        (dt.date(2026, 10, 2), 10, 0, False),  # National Day
        (dt.date(2026, 10, 10), 10, 0, True),  # makeup Saturday
    ],
)
def test_liaison_hours_follow_the_working_day_calendar(db, workroom, day, hour, minute, receiving):
    from workroom.visits.duty import reception_now

    state = reception_now(workroom, utc(day, hour, minute))
    assert state.receiving is receiving
    assert [p.role for p in state.on_duty] == (["liaison"] if receiving else [])


def test_staff_calendar_adjustments_open_and_close_the_workroom(db, workroom):
    from workroom.visits.duty import reception_now
    from workroom.workdays.calendar import add_adjustment

    saturday = dt.date(2026, 3, 7)
    add_adjustment(WEDNESDAY, "holiday", "临时休息", "通知 2026-1")
    add_adjustment(saturday, "workday", "调休上班", "通知 2026-1")
    db.session.commit()
    assert not reception_now(workroom, utc(WEDNESDAY, 10)).receiving
    assert reception_now(workroom, utc(saturday, 10)).receiving


def test_a_published_reception_day_puts_its_deputies_on_duty(
    db, workroom, make_deputy, make_reception_day
):
    from workroom.visits.duty import reception_now

    saturday = dt.date(2026, 3, 7)
    wang, li, zhao = (
        make_deputy(name="王建国", level="county"),
        make_deputy(name="李秀英", level="municipal"),
        make_deputy(name="赵敏"),
    )
    day = make_reception_day(workroom, saturday, deputies=[wang, li, (zhao, "declined")])

    state = reception_now(workroom, utc(saturday, 10))
    assert state.receiving and not state.liaison_hours
    assert state.reception_day_id == day.id
    assert [(p.role, p.name, p.level) for p in state.on_duty] == [
        ("deputy", "王建国", "county"),
        ("deputy", "李秀英", "municipal"),
    ]
    # After the window: closed again (a Saturday has no liaison hours).
    assert not reception_now(workroom, utc(saturday, 11, 30)).receiving


def test_draft_and_cancelled_days_do_not_open_the_workroom(
    db, workroom, make_deputy, make_reception_day
):
    from workroom.visits.duty import reception_now

    saturday = dt.date(2026, 3, 7)
    make_reception_day(workroom, saturday, deputies=[make_deputy()], status="draft")
    make_reception_day(
        workroom, saturday, start=(14, 0), end=(16, 0), deputies=[make_deputy()], status="cancelled"
    )
    assert not reception_now(workroom, utc(saturday, 10)).receiving
    assert not reception_now(workroom, utc(saturday, 15)).receiving


def test_during_a_day_whose_deputies_all_declined_the_liaison_receives(
    db, workroom, make_deputy, make_reception_day
):
    from workroom.visits.duty import reception_now

    make_reception_day(workroom, WEDNESDAY, deputies=[(make_deputy(), "declined")])
    state = reception_now(workroom, utc(WEDNESDAY, 10))
    assert state.receiving
    assert [p.role for p in state.on_duty] == ["liaison"]


def test_next_reception_after_hours_and_over_a_long_holiday(
    db, workroom, make_deputy, make_reception_day
):
    from workroom.visits.duty import next_reception

    friday_evening = utc(dt.date(2026, 3, 6), 18)
    upcoming = next_reception(workroom, friday_evening)
    assert upcoming.reception_day is None
    assert upcoming.liaison.opens_at == utc(dt.date(2026, 3, 9), 9)
    assert upcoming.liaison.closes_at == utc(dt.date(2026, 3, 9), 12)
    assert upcoming.at == upcoming.liaison.opens_at

    # At lunch the afternoon opening is next.
    assert next_reception(workroom, utc(WEDNESDAY, 12, 30)).at == utc(WEDNESDAY, 14, 30)

    # National Day 2026: 1–7 October off; Thursday the 8th is the next working day.
    assert next_reception(workroom, utc(dt.date(2026, 10, 2), 10)).at == utc(
        dt.date(2026, 10, 8), 9
    )

    saturday = dt.date(2026, 3, 7)
    day = make_reception_day(workroom, saturday, deputies=[make_deputy(name="王建国")])
    upcoming = next_reception(workroom, friday_evening)
    assert upcoming.reception_day.id == day.id
    assert upcoming.at == utc(saturday, 9)


def test_a_workroom_without_liaison_hours_has_no_liaison_opening(db, make_workroom):
    from workroom.visits.duty import next_reception, reception_now

    workroom = make_workroom(liaison_hours="")
    assert not reception_now(workroom, utc(WEDNESDAY, 10)).receiving
    assert next_reception(workroom, utc(WEDNESDAY, 10)).at is None


# Tickets and receipts


def test_ticket_numbers_count_per_workroom_and_local_day(db, make_workroom):
    from workroom.visits.checkin import next_ticket, ticket_label

    one, two = make_workroom(), make_workroom()
    assert [next_ticket(one.id, WEDNESDAY) for _ in range(3)] == [1, 2, 3]
    assert next_ticket(two.id, WEDNESDAY) == 1
    assert next_ticket(one.id, WEDNESDAY + dt.timedelta(days=1)) == 1
    assert next_ticket(one.id, WEDNESDAY) == 4
    assert ticket_label(7) == "007"
    assert ticket_label(1234) == "1234"


def test_check_ins_get_tickets_and_wait_in_order(db, workroom):
    from workroom.visits.checkin import check_in, queue_position, waiting_visits

    # 00:30 local on the 5th is still the 4th in UTC: the ticket follows the local day.
    made = [
        check_in(workroom, request_for(db), channel="phone", now=utc(WEDNESDAY, 9, m))
        for m in range(3)
    ]
    db.session.commit()
    assert [v.ticket_label for v in made] == ["001", "002", "003"]
    assert {v.ticket_date for v in made} == {WEDNESDAY}
    assert [queue_position(v) for v in made] == [0, 1, 2]
    assert all(v.kind == "checkin" and v.status == "waiting" for v in made)

    made[0].status = "called"
    db.session.commit()
    assert [queue_position(v) for v in made] == [0, 0, 1]
    assert [v.id for v in waiting_visits(workroom.id, WEDNESDAY)] == [made[1].id, made[2].id]


def test_the_ticket_day_is_the_local_date(db, make_workroom):
    from workroom.visits.checkin import check_in

    workroom = make_workroom(liaison_hours="00:00-23:59")
    # 00:30 on Thursday 5 March in Shanghai is still Wednesday in UTC.
    visit = check_in(
        workroom, request_for(db), channel="phone", now=utc(dt.date(2026, 3, 5), 0, 30)
    )
    assert visit.ticket_date == dt.date(2026, 3, 5)


def test_receipt_codes_are_short_unambiguous_and_unique(db, workroom):
    from workroom.visits.checkin import RECEIPT_ALPHABET, check_in

    codes = {
        check_in(workroom, request_for(db), channel="phone", now=utc(WEDNESDAY, 10)).receipt_code
        for _ in range(20)
    }
    assert len(codes) == 20
    for code in codes:
        assert len(code) == 8
        assert set(code) <= set(RECEIPT_ALPHABET)
        assert not set(code) & set("01OIL")


# Idempotency, messages, channels


def test_a_stored_key_is_found_and_another_body_conflicts(db, workroom):
    from sqlalchemy.exc import IntegrityError

    from workroom.visits.checkin import check_in, replayed, visit_for_key

    now = utc(WEDNESDAY, 10)
    first = check_in(
        workroom, request_for(db), channel="phone", now=now, idempotency_key="k1", fingerprint="a"
    )
    db.session.commit()
    assert visit_for_key("k1").id == first.id and visit_for_key("k2") is None
    assert replayed(first, "a") is first
    with pytest.raises(Conflict) as caught:
        replayed(first, "b")
    assert caught.value.status == 409
    # A concurrent request that missed the stored key is refused by the unique index.
    with pytest.raises(IntegrityError):
        check_in(workroom, request_for(db), channel="phone", now=now, idempotency_key="k1")
    db.session.rollback()
    assert len(visits(db)) == 1


def test_outside_hours_a_check_in_becomes_a_message_without_ticket(db, workroom):
    from workroom.visits.checkin import check_in, queue_position

    visit = check_in(
        workroom,
        request_for(db, name="张三", description="楼道灯坏了"),
        channel="phone",
        now=utc(dt.date(2026, 3, 7), 10),
    )
    db.session.commit()
    assert (visit.kind, visit.status, visit.channel) == ("message", "open", "phone")
    assert visit.ticket_number is None and visit.ticket_label is None
    assert queue_position(visit) is None
    assert visit.receipt_code


def test_personal_data_is_kept_as_given_and_hashed_with_a_key(db, workroom):
    from workroom.privacy import normalize_mobile
    from workroom.visits.checkin import check_in, visitor_phone_hash

    phone = normalize_mobile("＋８６ １３８-００１３-８０００")
    assert phone == "13800138000"
    one = check_in(workroom, request_for(db, phone=phone), channel="phone", now=utc(WEDNESDAY, 10))
    two = check_in(workroom, request_for(db, phone=phone), channel="phone", now=utc(WEDNESDAY, 11))
    db.session.commit()
    assert one.phone == "13800138000" and one.wants_reply
    assert one.phone_hash == two.phone_hash == visitor_phone_hash(phone)
    assert len(one.phone_hash) == 64 and phone not in one.phone_hash
    anonymous = check_in(workroom, request_for(db), channel="phone", now=utc(WEDNESDAY, 11))
    assert anonymous.phone_hash is None and not anonymous.wants_reply


def test_a_check_in_is_audited_without_personal_data(db, workroom):
    from workroom.audit.models import AuditEvent
    from workroom.visits.checkin import check_in

    visit = check_in(
        workroom,
        request_for(db, name="张三", phone="13800138000", description="噪声"),
        channel="phone",
        now=utc(WEDNESDAY, 10),
    )
    db.session.commit()
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "visit.checkin")
    ).one()
    assert (event.object_type, event.object_id) == ("visit", str(visit.id))
    assert event.at == utc(WEDNESDAY, 10)
    assert "张三" not in event.summary and "8000" not in event.summary


def test_provisional_tickets_are_kept_only_for_their_device(db, workroom):
    from workroom.visits.checkin import check_in
    from workroom.visits.models import Kiosk

    kiosk = Kiosk(workroom_id=workroom.id, name="大厅", prefix="K2")
    db.session.add(kiosk)
    db.session.commit()
    now = utc(WEDNESDAY, 10)

    def label(channel, provisional, device=None):
        visit = check_in(
            workroom,
            request_for(db, provisional_ticket=provisional),
            channel=channel,
            now=now,
            kiosk=device,
        )
        return visit

    kept = label("kiosk", "K2-003", kiosk)
    assert (kept.ticket_label, kept.ticket_number, kept.kiosk_id) == ("K2-003", 1, kiosk.id)
    assert label("kiosk", "K3-003", kiosk).ticket_label == "002"
    assert label("phone", "P7QX-001").ticket_label == "P7QX-001"
    assert label("phone", "K2-004").ticket_label == "004"


def test_parse_checkin_reports_every_wrong_field(db):
    from workroom.visits.checkin import CheckinInvalid, parse_checkin

    with pytest.raises(CheckinInvalid) as caught:
        parse_checkin(
            {
                "category": "no-such-thing",
                "name": "x" * 51,
                "phone": "12345",
                "description": "a\x00b",
                "consent": "yes",
            }
        )
    assert set(caught.value.errors) == {"category", "name", "phone", "description", "consent"}

    with pytest.raises(CheckinInvalid) as caught:
        parse_checkin(["not", "an", "object"])
    assert set(caught.value.errors) == {"body"}

    parsed = parse_checkin(
        {
            "category": "environment-noise",
            "name": "  <script>alert(1)</script>  ",
            "phone": "１３８ ００１３ ８０００",
            "description": "夜里施工太吵 😡\r\n第二行",
            "consent": True,
        }
    )
    assert parsed.name == "<script>alert(1)</script>"
    assert parsed.phone == "13800138000"
    assert parsed.description == "夜里施工太吵 😡\r\n第二行"


def test_an_inactive_category_cannot_be_chosen(db):
    from workroom.visits.checkin import find_category

    noise = category(db)
    assert find_category("environment-noise") is not None
    noise.parent.active = False
    db.session.commit()
    assert find_category("environment-noise") is None
    assert find_category(None) is None


# Visits logged by staff


def test_staff_log_a_call_with_a_landline_and_no_ticket(db, workroom, make_user):
    from workroom.visits.checkin import log_visit

    liaison = make_user("liaison", workrooms=[workroom])
    visit = log_visit(
        workroom,
        channel="call",
        category="urban-housing",
        name="李四",
        phone="0731-58581234",
        description="物业费问题",
        now=utc(dt.date(2026, 3, 7), 10),
        actor=liaison,
    )
    db.session.commit()
    assert (visit.kind, visit.channel, visit.status) == ("record", "call", "open")
    assert visit.phone == "073158581234" and visit.phone_hash
    assert visit.ticket_number is None and visit.receipt_code
    assert visit.received_by_id == liaison.id
    assert visit.category.code == "urban-housing"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "kiosk"}, "channel"),
        ({"category": "nope"}, "category"),
        ({"name": "x" * 51}, "name"),
        ({"phone": "123"}, "phone"),
        ({"description": "x" * 2001}, "description"),
    ],
)
def test_staff_records_are_checked(db, workroom, changes, field):
    from workroom.visits.checkin import log_visit

    args = {
        "channel": "letter",
        "category": None,
        "name": None,
        "phone": None,
        "description": "",
        "now": utc(WEDNESDAY, 10),
        "actor": None,
        **changes,
    }
    with pytest.raises(DomainError) as caught:
        log_visit(workroom, **args)
    assert caught.value.field == field


def test_the_privacy_notice_states_the_configured_retention(app_config, request):
    app_config["VISITOR_RETENTION_MONTHS"] = 18
    app = request.getfixturevalue("app")
    from workroom.visits.privacy_notice import CURRENT_VERSION, privacy_notice

    with app.test_request_context(headers={"Accept-Language": "en"}):
        notice = privacy_notice()
    assert notice.version == CURRENT_VERSION
    assert notice.retention_months == 18
    assert "18 months" in notice.retention
    assert len(notice.paragraphs()) == 4
