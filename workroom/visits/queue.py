"""The staff queue console: today's queue at a workroom and what staff do with its tickets.

Every action takes the acting user and ``now`` (naive UTC), checks that the ticket's
state allows it (else Conflict, HTTP 409) and that the actor may act at the workroom
today (else DomainError with status 403), and writes an audit event. The caller commits.

Who may act: an administrator and the workroom's liaison always; a deputy only when
assigned (not declined) to one of today's published reception days there and signed
in on arrival for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from workroom.audit.log import record
from workroom.clock import local_date
from workroom.db import db, increment, lock
from workroom.errors import Conflict, DomainError
from workroom.people.models import Deputy
from workroom.places.models import Workroom
from workroom.schedule.models import Assignment, ReceptionDay
from workroom.visits.models import DutyAttendance, Visit

# Tickets in the queue of the day; the rest are records and messages.
QUEUE_KIND = "checkin"
SERVING = ("called", "in_progress")
CLOSED = ("done", "no_show")
# How many waiting tickets the board shows as "next".
BOARD_NEXT = 5


def wait_minutes(visit: Visit, now: dt.datetime) -> int:
    """Whole minutes since the visitor arrived (until called, for called tickets)."""
    until = visit.called_at if visit.status != "waiting" and visit.called_at else now
    return max(0, int((until - visit.arrived_at).total_seconds() // 60))


# Who is on duty


@dataclasses.dataclass
class DutyDeputy:
    """A deputy assigned to one of today's reception days, and when they signed in."""

    deputy: Deputy
    day: ReceptionDay
    signed_in_at: dt.datetime | None

    @property
    def present(self) -> bool:
        return self.signed_in_at is not None


def todays_days(workroom: Workroom, now: dt.datetime) -> list[ReceptionDay]:
    """Today's published reception days at the workroom, earliest first."""
    return list(
        db.session.scalars(
            sa.select(ReceptionDay)
            .where(
                ReceptionDay.workroom_id == workroom.id,
                ReceptionDay.day == local_date(now),
                ReceptionDay.status == "published",
            )
            .options(selectinload(ReceptionDay.assignments).selectinload(Assignment.deputy))
            .order_by(ReceptionDay.starts_at, ReceptionDay.id)
        )
    )


def duty_today(workroom: Workroom, now: dt.datetime) -> list[DutyDeputy]:
    """Deputies assigned (not declined) to today's published days, one entry per deputy.

    A deputy on two of today's days is listed with the one that has not ended yet (or
    the last); a sign-in on any of their days counts.
    """
    days = todays_days(workroom, now)
    if not days:
        return []
    signed = {
        (row.reception_day_id, row.deputy_id): row.signed_in_at
        for row in db.session.scalars(
            sa.select(DutyAttendance).where(
                DutyAttendance.reception_day_id.in_([d.id for d in days])
            )
        )
    }
    found: dict[int, DutyDeputy] = {}
    for day in days:
        for assignment in day.active_assignments:
            deputy_id = assignment.deputy_id
            signed_in_at = signed.get((day.id, deputy_id))
            entry = found.get(deputy_id)
            if entry is None:
                found[deputy_id] = DutyDeputy(assignment.deputy, day, signed_in_at)
                continue
            if entry.day.ends_at <= now:
                entry.day = day
            entry.signed_in_at = entry.signed_in_at or signed_in_at
    return sorted(found.values(), key=lambda e: (e.day.starts_at, e.deputy.name))


def _duty_entry(workroom: Workroom, deputy_id: int, now: dt.datetime) -> DutyDeputy | None:
    for entry in duty_today(workroom, now):
        if entry.deputy.id == deputy_id:
            return entry
    return None


def acts_as_staff(actor: Any, workroom: Workroom) -> bool:
    """An administrator, or a liaison of this workroom: may always act on its queue."""
    role = getattr(actor, "role", None)
    if role == "admin":
        return True
    return role == "liaison" and any(w.id == workroom.id for w in actor.workrooms)


def actor_deputy_id(actor: Any) -> int | None:
    """The deputy a deputy's account belongs to, else None."""
    if getattr(actor, "role", None) == "deputy":
        return actor.deputy_id
    return None


def may_act(workroom: Workroom, actor: Any, now: dt.datetime) -> bool:
    try:
        check_may_act(workroom, actor, now)
    except DomainError:
        return False
    return True


def check_may_act(workroom: Workroom, actor: Any, now: dt.datetime) -> None:
    """Raise DomainError (403) unless ``actor`` may work the queue at ``workroom`` now."""
    if acts_as_staff(actor, workroom):
        return
    deputy_id = actor_deputy_id(actor)
    entry = _duty_entry(workroom, deputy_id, now) if deputy_id else None
    if entry is None:
        raise DomainError(_l("You are not on duty at this workroom today."), status=403)
    if not entry.present:
        raise DomainError(
            _l("Sign in on arrival first: press “I have arrived”."), "arrival", status=403
        )


def sign_in(workroom: Workroom, deputy: Deputy, actor: Any, now: dt.datetime) -> DutyAttendance:
    """Record that ``deputy`` has arrived for today's reception day (once per day).

    A deputy signs in themself; the liaison or an administrator may record it for them.
    Raises DomainError when the deputy is not on duty here today, or the actor may not
    record it.
    """
    own = actor_deputy_id(actor)
    if not acts_as_staff(actor, workroom) and own != deputy.id:
        raise DomainError(_l("You can only sign yourself in."), status=403)
    entry = _duty_entry(workroom, deputy.id, now)
    if entry is None:
        raise DomainError(
            _l("%(name)s is not on duty at this workroom today.", name=deputy.name), status=403
        )
    existing = db.session.scalar(
        sa.select(DutyAttendance).where(
            DutyAttendance.deputy_id == deputy.id,
            DutyAttendance.reception_day_id.in_([d.id for d in todays_days(workroom, now)]),
        )
    )
    if existing is not None:
        return existing
    attendance = DutyAttendance(
        reception_day_id=entry.day.id, deputy_id=deputy.id, signed_in_at=now
    )
    db.session.add(attendance)
    db.session.flush()
    record(
        "duty.sign_in",
        attendance,
        summary=f"{deputy.name}, {workroom.name}, {entry.day.day.isoformat()}",
        actor=actor,
        at=now,
    )
    return attendance


# The queue


@dataclasses.dataclass
class Queue:
    today: dt.date
    days: list[ReceptionDay]
    duty: list[DutyDeputy]
    waiting: list[Visit]
    serving: list[Visit]
    closed: list[Visit]

    @property
    def present_deputies(self) -> list[Deputy]:
        return [e.deputy for e in self.duty if e.present]


def _todays_tickets(workroom: Workroom, now: dt.datetime) -> sa.Select:
    return sa.select(Visit).where(
        Visit.workroom_id == workroom.id,
        Visit.kind == QUEUE_KIND,
        Visit.ticket_date == local_date(now),
    )


def todays_queue(workroom: Workroom, now: dt.datetime) -> Queue:
    """Today's tickets at the workroom, split by state, each in the order it matters."""
    visits = db.session.scalars(
        _todays_tickets(workroom, now).options(
            selectinload(Visit.category), selectinload(Visit.deputy)
        )
    ).all()
    waiting = sorted(
        (v for v in visits if v.status == "waiting"),
        key=lambda v: (v.arrived_at, v.ticket_number or 0, v.id),
    )
    serving = sorted(
        (v for v in visits if v.status in SERVING),
        key=lambda v: (v.called_at or v.arrived_at, v.id),
        reverse=True,
    )
    closed = sorted(
        (v for v in visits if v.status in CLOSED),
        key=lambda v: (v.ended_at or v.arrived_at, v.id),
        reverse=True,
    )
    return Queue(
        today=local_date(now),
        days=todays_days(workroom, now),
        duty=duty_today(workroom, now),
        waiting=waiting,
        serving=serving,
        closed=closed,
    )


def destination(visit: Visit) -> str:
    """Where the visitor goes, in words for the log: a deputy's name or the liaison."""
    if visit.deputy is not None:
        return visit.deputy.name
    return _l("the liaison") if visit.to_liaison else "-"


def _label(visit: Visit) -> str:
    return visit.ticket_label or f"#{visit.id}"


def _locked(visit: Visit) -> Visit:
    """The visit re-read under a row lock, so two consoles never act on stale state."""
    lock(visit)
    return visit


def _require_status(visit: Visit, *allowed: str) -> None:
    if visit.status not in allowed:
        raise Conflict(
            _l(
                "Ticket %(ticket)s is no longer in a state for this; the page now shows "
                "its current state.",
                ticket=_label(visit),
            )
        )


def _target(
    workroom: Workroom, actor: Any, now: dt.datetime, deputy: Deputy | None
) -> Deputy | None:
    """Who receives: the given deputy (present today), the acting deputy, or None for the
    liaison."""
    own = actor_deputy_id(actor)
    if own is not None and deputy is None:
        deputy = db.session.get(Deputy, own)
    if deputy is None:
        return None
    if own is not None and own != deputy.id and not acts_as_staff(actor, workroom):
        raise DomainError(_l("You can only call tickets for yourself."), "deputy_id", 403)
    entry = _duty_entry(workroom, deputy.id, now)
    if entry is None or not entry.present:
        raise DomainError(
            _l("%(name)s has not signed in on arrival today.", name=deputy.name), "deputy_id"
        )
    return deputy


def _send_to(visit: Visit, deputy: Deputy | None, workroom: Workroom, now: dt.datetime) -> None:
    visit.deputy = deputy
    visit.deputy_id = deputy.id if deputy is not None else None
    visit.to_liaison = deputy is None
    if deputy is not None and visit.reception_day_id is None:
        entry = _duty_entry(workroom, deputy.id, now)
        visit.reception_day_id = entry.day.id if entry else None


def call_next(
    workroom: Workroom, actor: Any, now: dt.datetime, deputy: Deputy | None = None
) -> Visit:
    """Call the longest-waiting ticket of today for ``deputy`` (default: the acting
    deputy, or the liaison).

    Tickets already transferred to someone else wait for them. Raises Conflict when
    nobody is waiting; DomainError when the actor or the deputy is not on duty.
    """
    check_may_act(workroom, actor, now)
    target = _target(workroom, actor, now, deputy)
    mine = Visit.deputy_id == target.id if target else Visit.to_liaison.is_(True)
    unclaimed = sa.and_(Visit.deputy_id.is_(None), Visit.to_liaison.is_(False))
    visit = db.session.scalars(
        _todays_tickets(workroom, now)
        .where(Visit.status == "waiting", sa.or_(unclaimed, mine))
        .order_by(Visit.arrived_at, Visit.ticket_number, Visit.id)
        .limit(1)
        # A second console calling at the same moment takes the next ticket.
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if visit is None:
        raise Conflict(_l("Nobody is waiting."))
    _send_to(visit, target, workroom, now)
    visit.status = "called"
    visit.called_at = now
    increment(visit, "call_count")
    record(
        "visit.call",
        visit,
        summary=_l("%(ticket)s to %(to)s", ticket=_label(visit), to=destination(visit)),
        actor=actor,
        at=now,
    )
    return visit


def recall(visit: Visit, actor: Any, now: dt.datetime) -> Visit:
    """Call a called ticket again (the board shows it and chimes once more)."""
    check_may_act(visit.workroom, actor, now)
    visit = _locked(visit)
    _require_status(visit, "called")
    visit.called_at = now
    increment(visit, "call_count")
    record(
        "visit.recall",
        visit,
        summary=_l("%(ticket)s called again (%(num)s)", ticket=_label(visit), num=visit.call_count),
        actor=actor,
        at=now,
    )
    return visit


def mark_no_show(visit: Visit, actor: Any, now: dt.datetime) -> Visit:
    """The visitor did not come when called (or left the queue)."""
    check_may_act(visit.workroom, actor, now)
    visit = _locked(visit)
    _require_status(visit, "waiting", "called")
    visit.status = "no_show"
    visit.ended_at = now
    record("visit.no_show", visit, summary=_label(visit), actor=actor, at=now)
    return visit


def transfer(visit: Visit, actor: Any, now: dt.datetime, deputy: Deputy | None) -> Visit:
    """Send the visitor to another deputy present today, or to the liaison (None).

    A waiting ticket keeps waiting, now for them; a called or started one is called
    again to its new place, so the board shows where to go.
    """
    workroom = visit.workroom
    check_may_act(workroom, actor, now)
    if deputy is not None:
        entry = _duty_entry(workroom, deputy.id, now)
        if entry is None or not entry.present:
            raise DomainError(
                _l("%(name)s has not signed in on arrival today.", name=deputy.name),
                "deputy_id",
            )
    visit = _locked(visit)
    _require_status(visit, "waiting", *SERVING)
    if (deputy is None and visit.to_liaison) or (
        deputy is not None and visit.deputy_id == deputy.id
    ):
        raise DomainError(_l("The ticket is already there."), "deputy_id")
    before = destination(visit)
    _send_to(visit, deputy, workroom, now)
    if visit.status in SERVING:
        visit.status = "called"
        visit.called_at = now
        visit.started_at = None
        increment(visit, "call_count")
    record(
        "visit.transfer",
        visit,
        summary=_l(
            "%(ticket)s: %(before)s to %(to)s",
            ticket=_label(visit),
            before=before,
            to=destination(visit),
        ),
        actor=actor,
        at=now,
    )
    return visit


def start(visit: Visit, actor: Any, now: dt.datetime) -> Visit:
    """The visitor has come to the desk: reception begins."""
    check_may_act(visit.workroom, actor, now)
    visit = _locked(visit)
    _require_status(visit, "called")
    visit.status = "in_progress"
    visit.started_at = now
    record("visit.start", visit, summary=_label(visit), actor=actor, at=now)
    return visit


def finish(visit: Visit, actor: Any, now: dt.datetime) -> Visit:
    """Reception is over; the record (summary, outcome) is filled in next."""
    check_may_act(visit.workroom, actor, now)
    visit = _locked(visit)
    _require_status(visit, "in_progress")
    visit.status = "done"
    visit.ended_at = now
    if visit.received_by_id is None:
        visit.received_by_id = getattr(actor, "id", None)
    record("visit.finish", visit, summary=_label(visit), actor=actor, at=now)
    return visit


# The display board


@dataclasses.dataclass
class BoardCall:
    ticket: str
    deputy_name: str | None
    key: str


@dataclasses.dataclass
class BoardSnapshot:
    """What the board shows: ticket numbers and deputies' names, never a visitor's data."""

    today: dt.date
    calling: list[BoardCall]
    next_tickets: list[str]
    waiting_count: int
    deputies: list[str]
    last_call: str | None


def board_snapshot(workroom: Workroom, now: dt.datetime) -> BoardSnapshot:
    """Today's calls (most recent first), the next tickets and the deputies on duty.

    ``last_call`` changes with every call, recall or transfer, so the board chimes.
    """
    rows = db.session.execute(
        _todays_tickets(workroom, now)
        .with_only_columns(
            Visit.id,
            Visit.status,
            Visit.ticket_label,
            Visit.ticket_number,
            Visit.arrived_at,
            Visit.called_at,
            Visit.call_count,
            Deputy.name,
        )
        .outerjoin(Deputy, Deputy.id == Visit.deputy_id)
    ).all()
    calls = sorted(
        (r for r in rows if r.status == "called"), key=lambda r: (r.called_at, r.id), reverse=True
    )
    waiting = sorted(
        (r for r in rows if r.status == "waiting"),
        key=lambda r: (r.arrived_at, r.ticket_number or 0, r.id),
    )
    ever_called = [r for r in rows if r.called_at is not None]
    last = max(ever_called, key=lambda r: (r.called_at, r.id), default=None)
    return BoardSnapshot(
        today=local_date(now),
        calling=[BoardCall(r.ticket_label or "", r.name, f"{r.id}-{r.call_count}") for r in calls],
        next_tickets=[r.ticket_label or "" for r in waiting[:BOARD_NEXT]],
        waiting_count=len(waiting),
        deputies=[e.deputy.name for e in duty_today(workroom, now)],
        last_call=f"{last.id}-{last.call_count}" if last else None,
    )
