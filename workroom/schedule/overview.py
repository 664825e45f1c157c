"""What the schedule shows of many reception days at once: per workroom the next
published day and what waits for the liaison, and one workroom's rules and coming days.
The staff pages call these; so does anything else that counts the same things."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from workroom.clock import as_utc_naive, local_date
from workroom.db import db
from workroom.places.models import Workroom
from workroom.schedule.models import ReceptionDay, ReceptionRule, SwapRequest
from workroom.schedule.periods import days_between

# How far ahead a workroom's schedule lists reception days.
COMING_MONTHS = 12


@dataclass(frozen=True)
class WorkroomSummary:
    """One workroom's schedule in a line: when its next published reception day starts
    (naive UTC, None when there is none), how many drafts that have not begun wait to
    be published, and how many swap requests wait for an answer."""

    workroom: Workroom
    next_day_at: dt.datetime | None
    drafts: int
    swaps_waiting: int


def workroom_summaries(visible: sa.Select, now: dt.datetime) -> list[WorkroomSummary]:
    """The active workrooms among ``visible`` (a select of the workrooms the reader may
    see), by name, each with its :class:`WorkroomSummary`."""
    now = as_utc_naive(now)
    rooms = db.session.scalars(
        visible.where(Workroom.active.is_(True)).order_by(Workroom.name)
    ).all()
    ids = [w.id for w in rooms]
    upcoming = dict(
        db.session.execute(
            sa.select(ReceptionDay.workroom_id, sa.func.min(ReceptionDay.starts_at))
            .where(
                ReceptionDay.workroom_id.in_(ids),
                ReceptionDay.status == "published",
                ReceptionDay.starts_at > now,
            )
            .group_by(ReceptionDay.workroom_id)
        ).all()
    )
    drafts = dict(
        db.session.execute(
            sa.select(ReceptionDay.workroom_id, sa.func.count())
            .where(
                ReceptionDay.workroom_id.in_(ids),
                ReceptionDay.status == "draft",
                ReceptionDay.starts_at > now,
            )
            .group_by(ReceptionDay.workroom_id)
        ).all()
    )
    swaps = dict(
        db.session.execute(
            sa.select(SwapRequest.workroom_id, sa.func.count())
            .where(SwapRequest.workroom_id.in_(ids), SwapRequest.status == "pending")
            .group_by(SwapRequest.workroom_id)
        ).all()
    )
    return [
        WorkroomSummary(w, upcoming.get(w.id), drafts.get(w.id, 0), swaps.get(w.id, 0))
        for w in rooms
    ]


@dataclass(frozen=True)
class WorkroomSchedule:
    """A workroom's rules (active first, then by start of validity) and its reception
    days of any status that have not ended, from today to ``COMING_MONTHS`` ahead, in
    order; ``drafts`` are those of them not yet published."""

    rules: Sequence[ReceptionRule]
    days: list[ReceptionDay]

    @property
    def drafts(self) -> list[ReceptionDay]:
        return [d for d in self.days if d.status == "draft"]


def workroom_schedule(workroom: Workroom, now: dt.datetime) -> WorkroomSchedule:
    """What the workroom's schedule page lists at ``now``."""
    now = as_utc_naive(now)
    today = local_date(now)
    rules = db.session.scalars(
        sa.select(ReceptionRule)
        .where(ReceptionRule.workroom_id == workroom.id)
        .order_by(ReceptionRule.active.desc(), ReceptionRule.valid_from, ReceptionRule.id)
    ).all()
    days = days_between(workroom, today, today + relativedelta(months=COMING_MONTHS))
    return WorkroomSchedule(rules=rules, days=[d for d in days if d.ends_at > now])
