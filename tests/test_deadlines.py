"""Deadlines on the shared working-day calendar, and the warning and escalation job,
with messages received by a real SMTP server."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import socket
import threading

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from workroom.categories.models import Category
from workroom.clock import local_date
from workroom.outbox.delivery import deliver_due
from workroom.outbox.models import OutboxMessage
from workroom.places.models import Area
from workroom.suggestions import lifecycle
from workroom.suggestions.deadlines import (
    add_months,
    check_deadlines,
    compute_deadlines,
    deadline_filter,
    deadline_state,
)
from workroom.suggestions.models import Suggestion
from workroom.suggestions.routing import create_rule
from workroom.workdays.calendar import add_adjustment

D = dt.date


# Arithmetic


@pytest.mark.parametrize(
    ("assigned", "accept_due", "reply_due"),
    [
        # Friday before the Spring Festival: the makeup Saturday 14 February counts,
        # then 15–23 February are off.
        (D(2026, 2, 13), D(2026, 2, 24), D(2026, 3, 12)),
        # Assigned on the makeup Saturday itself.
        (D(2026, 2, 14), D(2026, 2, 25), D(2026, 3, 13)),
        # The eve of National Day: 1–7 October are off, Saturday 10 October works.
        (D(2026, 9, 30), D(2026, 10, 9), D(2026, 10, 27)),
        # Friday 18 September: the makeup Sunday 20 September is the first working day.
        # Mid-Autumn (25 September) and National Day off, both makeup days worked.
        (D(2026, 9, 18), D(2026, 9, 21), D(2026, 10, 15)),
        # An ordinary week.
        (D(2026, 3, 2), D(2026, 3, 4), D(2026, 3, 23)),
    ],
)
def test_citizen_deadlines_count_working_days(db, assigned, accept_due, reply_due):
    assert compute_deadlines("citizen", assigned) == (accept_due, reply_due)


@pytest.mark.parametrize(
    ("assigned", "reply_due"),
    [
        (D(2026, 1, 31), D(2026, 4, 30)),  # the month end stays inside April
        (D(2025, 11, 30), D(2026, 2, 28)),  # a makeup Saturday is a working day
        (D(2025, 12, 31), D(2026, 3, 31)),
        (D(2026, 8, 31), D(2026, 11, 30)),
        # 1 October falls in National Day: the next working day is 8 October.
        (D(2026, 7, 1), D(2026, 10, 8)),
        # 16 May 2026 is a Saturday: the next working day is Monday 18 May.
        (D(2026, 2, 16), D(2026, 5, 18)),
    ],
)
def test_deputy_deadline_is_three_calendar_months(db, assigned, reply_due):
    assert compute_deadlines("deputy", assigned)[1] == reply_due


def test_add_months_keeps_month_ends(db):
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)  # a makeup Saturday
    assert add_months(D(2026, 3, 31), 2) == D(2026, 6, 1)  # 31 May is a Sunday
    assert add_months(D(2026, 3, 31), 3) == D(2026, 6, 30)


def test_staff_calendar_entries_move_deadlines(db):
    assert compute_deadlines("citizen", D(2026, 3, 2))[0] == D(2026, 3, 4)
    add_adjustment(D(2026, 3, 3), "holiday", "停电", "测试通知")
    add_adjustment(D(2026, 3, 7), "workday", "补班", "测试通知")
    assert compute_deadlines("citizen", D(2026, 3, 2))[0] == D(2026, 3, 5)
    assert compute_deadlines("citizen", D(2026, 3, 5))[0] == D(2026, 3, 7)  # Saturday works


def test_local_date_is_in_the_configured_zone(db):
    assert local_date(dt.datetime(2026, 2, 12, 16, 30)) == D(2026, 2, 13)
    assert local_date(dt.datetime(2026, 2, 12, 15, 30)) == D(2026, 2, 12)


# The deadline job


class Inbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(
                {
                    "to": envelope.rcpt_tos[0],
                    "id": message["Message-ID"],
                    "body": message.get_content(),
                }
            )
        return "250 Message accepted for delivery"

    def received(self) -> list[str]:
        with self.lock:
            return sorted(m["to"] for m in self.messages)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def app_config(app_config, smtp_server):
    app_config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.port,
        MAIL_DEFAULT_SENDER="noreply@workroom.test",
        MAIL_TIMEOUT=2,
    )
    return app_config


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    """Local ``hour`` o'clock on ``day`` in Shanghai, as naive UTC."""
    return dt.datetime.combine(day, dt.time(hour)) - dt.timedelta(hours=8)


@pytest.fixture
def handled(db, make_agency, make_workroom, make_user):
    """A suggestion assigned on Monday 2 March 2026: accept by 4 March, answer by 23 March."""
    city = Area(name="湘潭市", level="city")
    street = Area(
        name="下摄司街道", level="street", parent=Area(name="岳塘区", level="district", parent=city)
    )
    db.session.add(street)
    supervisor = make_agency(name="市生态环境局", email="city@example.cn")
    lead = make_agency(name="分局", email="lead@example.cn", supervisor=supervisor)
    co = make_agency(name="街道办", email="co@example.cn")
    quiet = make_agency(name="无邮箱单位")
    environment = db.session.scalar(sa.select(Category).where(Category.code == "environment"))
    create_rule(category=environment, area=city, lead_agency=lead, co_agencies=[co, quiet])
    workroom = make_workroom(area=street)
    liaison = make_user("liaison", workrooms=[workroom])
    liaison.email = "liaison@example.cn"
    make_user("liaison", workrooms=[workroom])  # no email: skipped
    elsewhere = make_user("liaison", workrooms=[make_workroom()])
    elsewhere.email = "elsewhere@example.cn"
    db.session.commit()
    s = lifecycle.submit(
        title="噪声扰民",
        content="夜间施工。",
        category=environment,
        area=street,
        source="liaison",
        now=at(D(2026, 3, 2)),
        actor=liaison,
        workroom=workroom,
    )
    db.session.commit()
    # The assignment notices are not what these tests look at.
    db.session.execute(sa.delete(OutboxMessage))
    db.session.commit()
    return {"s": s, "lead": lead, "co": co, "liaison": liaison}


def run(db, now: dt.datetime) -> None:
    """One run of the job, committed as the job runner does."""
    check_deadlines(now)
    db.session.commit()


def queued(db) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(OutboxMessage.dedupe_key)))


def test_overdue_notices_go_once_per_suggestion_kind_day_and_recipient(db, handled, smtp_server):
    s = handled["s"]
    run(db, at(D(2026, 3, 4), 18))  # due today: not late yet
    assert queued(db) == []
    for hour in (9, 15):  # two runs on the same day
        run(db, at(D(2026, 3, 5), hour))
    prefix = f"overdue:{s.id}:accept:2026-03-05"
    lead, supervisor = handled["lead"], handled["lead"].supervisor
    assert queued(db) == sorted(
        [
            f"{prefix}:agency{lead.id}",
            f"{prefix}:agency{supervisor.id}",
            f"{prefix}:user{handled['liaison'].id}",
        ]
    )
    assert deliver_due(at(D(2026, 3, 5), 16)).sent == 3
    assert deliver_due(at(D(2026, 3, 5), 17)).total == 0
    assert smtp_server.received() == ["city@example.cn", "lead@example.cn", "liaison@example.cn"]
    assert all(s.tracking_code in m["body"] for m in smtp_server.messages)

    run(db, at(D(2026, 3, 6)))
    run(db, at(D(2026, 3, 7)))  # Saturday: no notices
    run(db, at(D(2026, 3, 8)))
    assert len(queued(db)) == 6
    deliver_due(at(D(2026, 3, 8)))
    deliver_due(at(D(2026, 3, 8), 10))
    assert len(smtp_server.messages) == 6
    assert len({m["id"] for m in smtp_server.messages}) == 6

    lifecycle.accept(s, agency=lead, now=at(D(2026, 3, 9)), actor=None)
    db.session.commit()
    run(db, at(D(2026, 3, 10)))
    assert len(queued(db)) == 6


def test_warning_before_the_answer_deadline_then_escalation(db, handled, smtp_server):
    s, lead, co = handled["s"], handled["lead"], handled["co"]
    lifecycle.accept(s, agency=lead, now=at(D(2026, 3, 3)), actor=None)
    db.session.commit()
    run(db, at(D(2026, 3, 17)))  # 4 working days before 23 March
    assert queued(db) == []
    run(db, at(D(2026, 3, 18)))
    run(db, at(D(2026, 3, 19)))
    warning = f"warning:{s.id}:reply:2026-03-23"
    assert queued(db) == sorted(f"{warning}:agency{a.id}" for a in (co, lead))
    deliver_due(at(D(2026, 3, 19)))
    assert smtp_server.received() == ["co@example.cn", "lead@example.cn"]

    run(db, at(D(2026, 3, 24)))
    run(db, at(D(2026, 3, 24), 20))
    overdue = [k for k in queued(db) if k.startswith(f"overdue:{s.id}:reply:2026-03-24")]
    assert len(overdue) == 3
    deliver_due(at(D(2026, 3, 24), 21))
    deliver_due(at(D(2026, 3, 24), 22))
    assert smtp_server.received() == [
        "city@example.cn",
        "co@example.cn",
        "lead@example.cn",
        "lead@example.cn",
        "liaison@example.cn",
    ]


def test_an_approved_extension_gets_its_own_warning(db, handled):
    s, lead, co = handled["s"], handled["lead"], handled["co"]
    lifecycle.accept(s, agency=lead, now=at(D(2026, 3, 3)), actor=None)
    lifecycle.co_opinion(s, agency=co, opinion="同意", now=at(D(2026, 3, 4)), actor=None)
    db.session.commit()
    run(db, at(D(2026, 3, 18)))
    warnings = [k for k in queued(db) if k.startswith("warning:")]
    assert warnings == [f"warning:{s.id}:reply:2026-03-23:agency{lead.id}"]
    request = lifecycle.request_extension(
        s,
        agency=lead,
        requested_due=D(2026, 3, 30),
        reason="等材料",
        now=at(D(2026, 3, 18)),
        actor=None,
    )
    lifecycle.decide_extension(request, approve=True, now=at(D(2026, 3, 18)), actor=None)
    db.session.commit()
    run(db, at(D(2026, 3, 25)))
    assert f"warning:{s.id}:reply:2026-03-30:agency{lead.id}" in queued(db)
    assert not [k for k in queued(db) if k.startswith("overdue:")]


def test_list_filter_matches_deadline_state(db, handled):
    s = handled["s"]
    for day in (D(2026, 3, 2), D(2026, 3, 5), D(2026, 3, 18), D(2026, 3, 24)):
        state = deadline_state(s, day)
        for candidate in ("on_time", "due_soon", "overdue"):
            ids = db.session.scalars(
                sa.select(Suggestion.id).where(deadline_filter(candidate, day))
            ).all()
            assert (s.id in ids) == (candidate == state), (day, candidate, state)
    lifecycle.accept(s, agency=handled["lead"], now=at(D(2026, 3, 3)), actor=None)
    db.session.commit()
    assert deadline_state(s, D(2026, 3, 18)) == "due_soon"
    assert (
        s.id
        in db.session.scalars(
            sa.select(Suggestion.id).where(deadline_filter("due_soon", D(2026, 3, 18)))
        ).all()
    )
