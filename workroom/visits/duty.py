"""Whether a workroom is receiving now, who is on duty, and when it next receives.

A workroom receives during a published reception day's window, and during the liaison's
opening hours on working days. The deputies of the reception day in progress are on duty
(those who declined are not); otherwise the liaison is. All times passed in and returned
are naive UTC, as the tables store them; days and hours are local to ``TIMEZONE``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from workroom.clock import to_local, to_utc
from workroom.db import db
from workroom.errors import DomainError
from workroom.people.models import DEPUTY_LEVELS, Deputy
from workroom.places.models import Workroom
from workroom.schedule.models import Assignment, ReceptionDay
from workroom.workdays.calendar import Adjustment, WorkingCalendar, working_calendar
from workroom.workdays.models import CalendarAdjustment

# How far ahead the next liaison opening is looked for (long holidays last about 9 days).
LIAISON_HORIZON_DAYS = 60

LIAISON_LABEL = _l("The liaison")


@dataclass(frozen=True)
class OnDuty:
    """Someone receiving citizens now: a deputy, or the liaison (``deputy_id`` None)."""

    role: str  # "deputy" or "liaison"
    name: str
    level: str | None = None
    deputy_id: int | None = None

    @property
    def label(self) -> str:
        return self.name if self.role == "deputy" else str(LIAISON_LABEL)

    @property
    def level_label(self) -> str:
        return str(DEPUTY_LEVELS.get(self.level, self.level)) if self.level else ""

    def as_dict(self) -> dict[str, object]:
        return {
            "role": self.role,
            "name": self.label,
            "level": self.level,
            "level_label": self.level_label or None,
        }


@dataclass(frozen=True)
class ReceptionNow:
    """The state of a workroom at one moment."""

    receiving: bool
    # Receiving in the liaison's hours, with no reception day in progress.
    liaison_hours: bool
    reception_day_id: int | None = None
    on_duty: list[OnDuty] = field(default_factory=list)


@dataclass(frozen=True)
class LiaisonOpening:
    opens_at: dt.datetime
    closes_at: dt.datetime


@dataclass(frozen=True)
class NextReception:
    """When a workroom next receives: its next published reception day and the next
    liaison opening, either of which may be unknown (None)."""

    reception_day: ReceptionDay | None
    liaison: LiaisonOpening | None
    liaison_hours: str

    @property
    def at(self) -> dt.datetime | None:
        """The earlier of the two, or None when the workroom has nothing ahead."""
        moments = [m for m in (self.day_starts_at, self.liaison_opens_at) if m is not None]
        return min(moments) if moments else None

    @property
    def day_starts_at(self) -> dt.datetime | None:
        return self.reception_day.starts_at if self.reception_day is not None else None

    @property
    def liaison_opens_at(self) -> dt.datetime | None:
        return self.liaison.opens_at if self.liaison is not None else None


def _hour_ranges(workroom: Workroom) -> list[tuple[dt.time, dt.time]]:
    try:
        return workroom.hour_ranges()
    except DomainError:
        # Hours are checked when saved; an unreadable value means no liaison hours.
        return []


def liaison_hours_open(
    workroom: Workroom, now: dt.datetime, calendar: WorkingCalendar | None = None
) -> bool:
    """True when ``now`` falls in the liaison's hours on a working day."""
    ranges = _hour_ranges(workroom)
    if not ranges:
        return False
    local = to_local(now)
    if not any(start <= local.time() < end for start, end in ranges):
        return False
    calendar = calendar or _calendar_for(local.date())
    return calendar.is_working_day(local.date())


# Statements every check-in runs are built once: SQLAlchemy then reuses their cache key.
@functools.cache
def _adjustments_of_day() -> sa.Select:
    table = CalendarAdjustment.__table__
    return sa.select(table.c.day, table.c.kind, table.c.name).where(
        table.c.day == sa.bindparam("day")
    )


def _calendar_for(day: dt.date) -> WorkingCalendar:
    """The working-day calendar with the staff adjustment of ``day`` alone: enough to
    answer for that day, in one query (every check-in asks)."""
    rows = db.session.execute(_adjustments_of_day(), {"day": day}).all()
    return WorkingCalendar([day.year], [Adjustment(*row) for row in rows])


def deputies_on_duty(day: ReceptionDay) -> list[OnDuty]:
    """The deputies of a reception day who have not declined, in assignment order."""
    return [
        OnDuty("deputy", a.deputy.name, a.deputy.level, a.deputy.id) for a in day.active_assignments
    ]


@functools.cache
def _day_in_progress() -> sa.Select:
    day, assignment, deputy = (
        ReceptionDay.__table__,
        Assignment.__table__,
        Deputy.__table__,
    )
    now = sa.bindparam("now", type_=day.c.starts_at.type)
    return (
        sa.select(day.c.id, deputy.c.id, deputy.c.name, deputy.c.level)
        .outerjoin(
            assignment,
            (assignment.c.reception_day_id == day.c.id) & (assignment.c.status != "declined"),
        )
        .outerjoin(deputy, deputy.c.id == assignment.c.deputy_id)
        .where(
            day.c.workroom_id == sa.bindparam("workroom_id"),
            day.c.status == "published",
            day.c.starts_at <= now,
            day.c.ends_at > now,
        )
        .order_by(day.c.starts_at, day.c.id, assignment.c.id)
    )


def reception_now(workroom: Workroom, now: dt.datetime) -> ReceptionNow:
    """Whether ``workroom`` is receiving at ``now`` and who is on duty.

    The deputies of the reception day in progress are on duty; without any, the liaison
    is, when the workroom is receiving at all.
    """
    # One query for the day in progress and its deputies: every check-in asks this.
    rows = db.session.execute(_day_in_progress(), {"workroom_id": workroom.id, "now": now}).all()
    day_id = rows[0][0] if rows else None
    on_duty = [
        OnDuty("deputy", name, level, deputy_id)
        for row_day, deputy_id, name, level in rows
        if row_day == day_id and deputy_id is not None
    ]
    # The liaison's hours matter only when no reception day is in progress.
    liaison = day_id is None and liaison_hours_open(workroom, now)
    receiving = day_id is not None or liaison
    if receiving and not on_duty:
        on_duty = [OnDuty("liaison", "")]
    return ReceptionNow(
        receiving=receiving, liaison_hours=liaison, reception_day_id=day_id, on_duty=on_duty
    )


def next_reception_day(workroom: Workroom, now: dt.datetime) -> ReceptionDay | None:
    """The next published reception day starting after ``now``."""
    return db.session.scalars(
        sa.select(ReceptionDay)
        .where(
            ReceptionDay.workroom_id == workroom.id,
            ReceptionDay.status == "published",
            ReceptionDay.starts_at > now,
        )
        .options(selectinload(ReceptionDay.assignments).selectinload(Assignment.deputy))
        .order_by(ReceptionDay.starts_at)
        .limit(1)
    ).first()


def next_liaison_opening(
    workroom: Workroom, now: dt.datetime, horizon_days: int = LIAISON_HORIZON_DAYS
) -> LiaisonOpening | None:
    """The next liaison opening that starts after ``now`` on a working day, or None
    when the workroom has no liaison hours (or none within ``horizon_days``)."""
    ranges = _hour_ranges(workroom)
    if not ranges:
        return None
    local = to_local(now)
    first, last = local.date(), local.date() + dt.timedelta(days=horizon_days)
    calendar = working_calendar(range(first.year, last.year + 1))
    day = first
    while day <= last:
        if calendar.is_working_day(day):
            for start, end in ranges:
                opens_at = to_utc(day, start)
                if opens_at > now:
                    return LiaisonOpening(opens_at, to_utc(day, end))
        day += dt.timedelta(days=1)
    return None


def next_reception(workroom: Workroom, now: dt.datetime) -> NextReception:
    """When ``workroom`` next receives after ``now`` (for a message left while closed)."""
    return NextReception(
        reception_day=next_reception_day(workroom, now),
        liaison=next_liaison_opening(workroom, now),
        liaison_hours=workroom.liaison_hours or "",
    )
