"""Draft the reception days of a period from the rules and fill them with the solver."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from workroom.audit.log import record
from workroom.clock import as_utc_naive, to_utc
from workroom.db import db, lock_rows
from workroom.errors import DomainError
from workroom.people.models import Deputy, Unavailability, deputy_workroom
from workroom.places.models import Workroom
from workroom.schedule.models import Assignment, ReceptionDay, ReceptionRule
from workroom.schedule.roster import (
    Candidate,
    Commitment,
    RosterResult,
    Slot,
    assign_deputies,
)
from workroom.schedule.rules import IsWorkingDay, occurrences

# Longest period generated at once: a year, leap or not.
MAX_PERIOD_DAYS = 366

SlotKey = tuple[int, dt.date, dt.datetime]


def generate_roster(
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    is_working_day: IsWorkingDay,
    workroom_ids: Iterable[int] | None = None,
) -> RosterResult:
    """Create or replace the draft reception days of [start, end] and their deputies.

    Covers the active rules of the given workrooms (all active workrooms when None).
    Published and cancelled days, and drafts that have already begun at ``now``, are left
    as they are; a rule date they occupy is not drafted again, and their deputies count as
    busy at that time and towards their monthly cap. Fairness history is every published
    assignment from twelve months before ``start`` to ``end``. A draft whose date no
    rule gives any more is removed. Where two rules give the same start at a workroom,
    the older rule wins. The caller commits.

    Returns the solver's result keyed by (workroom id, local day, UTC start). Raises
    DomainError for a reversed or over-long period, an unsupported rule, or a calendar
    that has no working days.
    """
    if end < start:
        raise DomainError(_l("The period must end on or after the day it starts."), "end")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise DomainError(_l("Generate at most one year at a time."), "end")
    now = as_utc_naive(now)

    room_query = sa.select(Workroom.id).where(Workroom.active.is_(True))
    if workroom_ids is not None:
        room_query = room_query.where(Workroom.id.in_(list(workroom_ids)))
    scope = list(db.session.scalars(room_query.order_by(Workroom.id)))
    if not scope:
        return RosterResult()
    # One generation or publication at a time per workroom (see periods.publish_days).
    lock_rows(Workroom, scope)
    in_scope = ReceptionDay.workroom_id.in_(scope)

    existing = db.session.scalars(
        sa.select(ReceptionDay)
        .where(in_scope, ReceptionDay.day.between(start, end))
        .options(selectinload(ReceptionDay.assignments))
    ).all()
    drafts: dict[SlotKey, ReceptionDay] = {}
    taken: set[SlotKey] = set()
    for row in existing:
        key = (row.workroom_id, row.day, row.starts_at)
        if row.status == "draft" and row.starts_at > now:
            drafts[key] = row
        else:
            taken.add(key)

    planned: dict[SlotKey, tuple[ReceptionRule, dt.datetime]] = {}
    rules = db.session.scalars(
        sa.select(ReceptionRule)
        .where(
            ReceptionRule.workroom_id.in_(scope),
            ReceptionRule.active.is_(True),
            ReceptionRule.valid_from <= end,
            sa.or_(ReceptionRule.valid_until.is_(None), ReceptionRule.valid_until >= start),
        )
        .order_by(ReceptionRule.id)
    )
    for rule in rules:
        for day in occurrences(rule, start, end, is_working_day):
            starts_at = to_utc(day, rule.starts_at_time)
            key = (rule.workroom_id, day, starts_at)
            if key in planned or key in taken or starts_at <= now:
                continue
            planned[key] = (rule, to_utc(day, rule.ends_at_time))

    candidates, commitments = _load_people(scope, start, end, set(drafts.values()))
    slots = [
        Slot(key, key[0], key[1], key[2], ends_at, rule.deputies_needed)
        for key, (rule, ends_at) in planned.items()
    ]
    result = assign_deputies(slots, candidates, commitments)

    for key, (rule, ends_at) in planned.items():
        row = drafts.pop(key, None)
        if row is None:
            row = ReceptionDay(workroom_id=key[0], day=key[1], starts_at=key[2], status="draft")
            db.session.add(row)
        row.rule_id = rule.id
        row.ends_at = ends_at
        row.deputies_needed = rule.deputies_needed
        row.capacity = rule.capacity
        explanation = result.unfilled.get(key)
        row.unfilled = explanation.to_dict() if explanation else None
        wanted = result.assignments[key]
        for assignment in list(row.assignments):
            if assignment.deputy_id not in wanted:
                row.assignments.remove(assignment)
        held = {a.deputy_id for a in row.assignments}
        row.assignments.extend(
            Assignment(deputy_id=deputy_id, status="assigned")
            for deputy_id in wanted
            if deputy_id not in held
        )
    for row in drafts.values():
        db.session.delete(row)
    db.session.flush()

    rooms = (
        _l("workrooms %(names)s", names=", ".join(str(w) for w in scope))
        if len(scope) <= 10
        else _l("%(num)s workrooms", num=len(scope))
    )
    record(
        "roster.generate",
        object_type="roster",
        object_id=f"{start}/{end}",
        summary=_l(
            "%(start)s–%(end)s: %(days)s draft days, %(unfilled)s places unfilled; %(rooms)s",
            start=start,
            end=end,
            days=len(planned),
            unfilled=result.places_unfilled,
            rooms=rooms,
        ),
        at=now,
    )
    return result


def _load_people(
    scope: list[int],
    start: dt.date,
    end: dt.date,
    replaced: set[ReceptionDay],
    deputy_ids: Iterable[int] | None = None,
) -> tuple[list[Candidate], list[Commitment]]:
    """The active deputies attached to the workrooms in scope, with their absences,
    history and the receptions they already hold around the period (each commitment's
    ``ref`` is its reception day id), leaving out the days in ``replaced``.

    Given ``deputy_ids``, those of them that are active instead, attached or not: one
    attached to no workroom in scope comes with empty ``workroom_ids``.
    """
    chosen: Any = (
        sa.select(deputy_workroom.c.deputy_id)
        .where(deputy_workroom.c.workroom_id.in_(scope))
        .scalar_subquery()
        if deputy_ids is None
        else list(deputy_ids)
    )
    caps = dict(
        db.session.execute(
            sa.select(Deputy.id, Deputy.monthly_cap).where(
                Deputy.id.in_(chosen), Deputy.active.is_(True)
            )
        ).all()
    )
    if not caps:
        return [], []
    rooms: dict[int, set[int]] = {deputy_id: set() for deputy_id in caps}
    for deputy_id, workroom_id in db.session.execute(
        sa.select(deputy_workroom.c.deputy_id, deputy_workroom.c.workroom_id).where(
            deputy_workroom.c.deputy_id.in_(chosen), deputy_workroom.c.workroom_id.in_(scope)
        )
    ):
        if deputy_id in rooms:
            rooms[deputy_id].add(workroom_id)

    absences: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for deputy_id, first, last in db.session.execute(
        sa.select(Unavailability.deputy_id, Unavailability.starts_on, Unavailability.ends_on)
        .where(
            Unavailability.deputy_id.in_(chosen),
            Unavailability.starts_on <= end,
            Unavailability.ends_on >= start,
        )
        .order_by(Unavailability.deputy_id, Unavailability.starts_on)
    ):
        absences[deputy_id].append((first, last))

    served: dict[int, int] = defaultdict(int)
    last_served: dict[int, dt.date] = {}
    commitments: list[Commitment] = []
    replaced_ids = {row.id for row in replaced}
    history_from = start - relativedelta(months=12)
    # Caps count whole months, so commitments cover the months the period touches.
    month_first = start.replace(day=1)
    month_last = end + relativedelta(day=31)
    rows = db.session.execute(
        sa.select(
            Assignment.deputy_id,
            ReceptionDay.id,
            ReceptionDay.status,
            ReceptionDay.day,
            ReceptionDay.starts_at,
            ReceptionDay.ends_at,
        )
        .join(ReceptionDay, ReceptionDay.id == Assignment.reception_day_id)
        .where(
            Assignment.deputy_id.in_(chosen),
            Assignment.status != "declined",
            ReceptionDay.status != "cancelled",
            ReceptionDay.day.between(history_from, month_last),
        )
    )
    for deputy_id, day_id, status, day, starts_at, ends_at in rows:
        if status == "published" and day <= end:
            served[deputy_id] += 1
            if day < start and day > last_served.get(deputy_id, dt.date.min):
                last_served[deputy_id] = day
        if day >= month_first and day_id not in replaced_ids:
            commitments.append(Commitment(deputy_id, day, starts_at, ends_at, day_id))

    candidates = [
        Candidate(
            deputy_id=deputy_id,
            workroom_ids=frozenset(rooms[deputy_id]),
            monthly_cap=caps[deputy_id],
            unavailable=tuple(absences.get(deputy_id, ())),
            served_12m=served.get(deputy_id, 0),
            last_served=last_served.get(deputy_id),
        )
        for deputy_id in sorted(rooms)
    ]
    return candidates, commitments
