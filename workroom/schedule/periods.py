"""A period of reception days: its length, generating its drafts (with the holiday
calendar confirmed or acknowledged), how fairly they fall on the deputies, publishing them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from workroom.audit.log import record
from workroom.clock import as_utc_naive
from workroom.db import db, lock_rows
from workroom.errors import DomainError
from workroom.people.models import Deputy, deputy_workroom
from workroom.places.models import Workroom
from workroom.schedule.feeds import on_duty
from workroom.schedule.generate import generate_roster
from workroom.schedule.models import Assignment, ReceptionDay
from workroom.schedule.reminders import (
    queue_deputy_reminder,
)
from workroom.schedule.roster import RosterResult
from workroom.workdays.calendar import unconfirmed_message, working_calendar

# Months a period may cover: a month, a quarter, a year.
PERIOD_LENGTHS = {
    1: _l("One month"),
    3: _l("A quarter (3 months)"),
    12: _l("A year (12 months)"),
}


def period(first_month: dt.date | None, months: int | None) -> tuple[dt.date, dt.date]:
    """The first and last day of ``months`` whole months from ``first_month``'s month.

    Raises DomainError for a missing month or a length other than 1, 3 or 12.
    """
    if first_month is None:
        raise DomainError(_l("Choose the first month."), "start_month")
    if months not in PERIOD_LENGTHS:
        raise DomainError(_l("Choose a month, a quarter or a year."), "length")
    start = first_month.replace(day=1)
    return start, start + relativedelta(months=months) - dt.timedelta(days=1)


def unconfirmed_years(start: dt.date, end: dt.date) -> list[int]:
    """The years of [start, end] whose holiday arrangements are not confirmed."""
    return working_calendar(range(start.year, end.year + 1)).unconfirmed_years(start, end)


def generate_period(
    workroom: Workroom | None,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    *,
    acknowledged_years: Iterable[int] = (),
    actor: Any = None,
) -> RosterResult:
    """Draft and fill the reception days of [start, end] for one workroom (all when None).

    A year of the period whose holiday arrangements are not confirmed must be in
    ``acknowledged_years`` (the person checked them by hand); each such acknowledgement
    is written to the audit log. The calendar itself is left unconfirmed.
    Raises DomainError on field "acknowledge" naming the unconfirmed years otherwise,
    and whatever :func:`generate.generate_roster` raises. The caller commits.
    """
    now = as_utc_naive(now)
    calendar = working_calendar(range(start.year, end.year + 1))
    try:
        calendar.require_confirmed(start, end)
    except DomainError:
        missing = calendar.unconfirmed_years(start, end)
        if not set(missing) <= set(acknowledged_years):
            raise DomainError(unconfirmed_message(missing), "acknowledge") from None
        where = workroom.name if workroom else "all workrooms"
        for year in missing:
            record(
                "calendar.acknowledge",
                object_type="confirmed_year",
                object_id=year,
                summary=_l(
                    "Holiday arrangements for %(year)s checked by hand before generating "
                    "%(start)s–%(end)s for %(where)s; the year stays unconfirmed",
                    year=year,
                    start=start,
                    end=end,
                    where=where,
                ),
                actor=actor,
                at=now,
            )
    return generate_roster(
        start,
        end,
        now,
        calendar.is_working_day,
        None if workroom is None else [workroom.id],
    )


def days_between(
    workroom: Workroom | None,
    start: dt.date,
    end: dt.date,
    statuses: Sequence[str] = ("draft", "published", "cancelled"),
) -> Sequence[ReceptionDay]:
    """The reception days of a workroom (all when None) dated in [start, end], in order."""
    stmt = (
        sa.select(ReceptionDay)
        .where(ReceptionDay.day.between(start, end), ReceptionDay.status.in_(list(statuses)))
        .options(
            selectinload(ReceptionDay.assignments).selectinload(Assignment.deputy),
            selectinload(ReceptionDay.workroom),
        )
        .order_by(ReceptionDay.starts_at, ReceptionDay.workroom_id, ReceptionDay.id)
    )
    if workroom is not None:
        stmt = stmt.where(ReceptionDay.workroom_id == workroom.id)
    return db.session.scalars(stmt).all()


@dataclass
class Fairness:
    """Days per attached deputy in a period: ``groups`` pairs a number of days with how
    many deputies hold it, most days first; ``spread`` is most minus fewest."""

    days: dict[int, int]
    groups: list[tuple[int, int]]
    spread: int


def fairness(workroom: Workroom, start: dt.date, end: dt.date) -> Fairness:
    """How evenly the drafted and published days of [start, end] fall on the workroom's
    active attached deputies (declined places and cancelled days do not count)."""
    attached = db.session.scalars(
        sa.select(Deputy.id)
        .join(deputy_workroom, deputy_workroom.c.deputy_id == Deputy.id)
        .where(deputy_workroom.c.workroom_id == workroom.id, Deputy.active.is_(True))
    ).all()
    days = dict.fromkeys(attached, 0)
    for row in days_between(workroom, start, end, ("draft", "published")):
        for assignment in on_duty(row):
            days[assignment.deputy_id] = days.get(assignment.deputy_id, 0) + 1
    counts = Counter(days.values())
    groups = sorted(counts.items(), reverse=True)
    spread = max(days.values()) - min(days.values()) if days else 0
    return Fairness(days=days, groups=groups, spread=spread)


@dataclass
class WorkroomDrafts:
    """A workroom's drafts in a period, in order, and how fairly the period falls."""

    workroom: Workroom
    days: list[ReceptionDay]
    fairness: Fairness


@dataclass
class PeriodPreview:
    """What publishing [start, end] would publish: the drafts that have not begun, per
    workroom in the order of their first day, and the days already published."""

    drafts: list[ReceptionDay]
    published: list[ReceptionDay]
    rooms: list[WorkroomDrafts]


def preview_period(
    workroom: Workroom | None, start: dt.date, end: dt.date, now: dt.datetime
) -> PeriodPreview:
    """The preview of [start, end] for one workroom (all when None)."""
    now = as_utc_naive(now)
    days = days_between(workroom, start, end)
    drafts = [d for d in days if d.status == "draft" and d.starts_at > now]
    by_room: dict[int, list[ReceptionDay]] = {}
    for day in drafts:
        by_room.setdefault(day.workroom_id, []).append(day)
    rooms = [
        WorkroomDrafts(rows[0].workroom, rows, fairness(rows[0].workroom, start, end))
        for rows in by_room.values()
    ]
    published = [d for d in days if d.status == "published"]
    return PeriodPreview(drafts=drafts, published=published, rooms=rooms)


def publish_days(
    workroom: Workroom | None,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    actor: Any = None,
    *,
    notify: bool = True,
) -> list[ReceptionDay]:
    """Publish the drafts of [start, end] of one workroom (all when None) that have not
    begun; return them.

    Each deputy on duty gets the publication notice (an email with confirm and decline
    links, and an SMS) under keys naming the day, the deputy and the sequence, so a
    second publish queues nothing. ``notify=False`` (the demo) queues nothing at all.
    The caller commits.
    """
    now = as_utc_naive(now)
    # Publishing and generating take the workrooms' rows first: one at a time per room.
    rooms = [workroom.id] if workroom else db.session.scalars(sa.select(Workroom.id)).all()
    lock_rows(Workroom, rooms)
    drafts = [d for d in days_between(workroom, start, end, ("draft",)) if d.starts_at > now]
    messages = 0
    for day in drafts:
        day.status = "published"
        day.published_at = now
        if notify:
            for assignment in on_duty(day):
                messages += queue_deputy_reminder(assignment, "published", now)
    if not drafts:
        return drafts
    where = workroom.name if workroom else _l("all workrooms")
    record(
        "roster.publish",
        object_type="roster",
        object_id=f"{start}/{end}",
        summary=_l(
            "%(where)s %(start)s–%(end)s: %(days)s days published, %(messages)s messages",
            where=where,
            start=start,
            end=end,
            days=len(drafts),
            messages=messages,
        ),
        actor=actor,
        at=now,
    )
    db.session.flush()
    return drafts
