"""Every change to a reception day after it is drafted: replace, add or remove a deputy,
cancel the day; and who may hold a day.

Each change to a published day raises its ``sequence`` and notifies, through the
outbox, exactly the deputies it affects, under keys that carry the sequence
(``removed:<day>:<deputy>:<sequence>:<channel>``), so a repeat queues nothing twice.
Changes to a draft notify nobody: drafts are announced when published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workroom import messenger
from workroom.audit.log import record, stored_words
from workroom.clock import as_utc_naive
from workroom.db import db, increment, lock
from workroom.errors import Conflict, DomainError
from workroom.people.models import Deputy, Unavailability, deputy_workroom
from workroom.schedule.feeds import on_duty, time_window
from workroom.schedule.generate import _load_people
from workroom.schedule.models import Assignment, ReceptionDay, SwapRequest
from workroom.schedule.reminders import day_context, day_params, queue_deputy_reminder
from workroom.schedule.roster import (
    AT_CAP,
    BUSY_ELSEWHERE,
    NOT_ATTACHED,
    UNAVAILABLE,
    Duties,
    Explanation,
    Slot,
    absence_on,
    assign_deputies,
    why_not,
)
from workroom.schedule.tokens import public_url

MAX_REASON = 200


@dataclass
class Change:
    """What a change did: the deputies told about it and warnings for the person acting."""

    notified: list[Deputy] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Notifications of changes


def _announce_removed(day: ReceptionDay, deputy: Deputy, now: dt.datetime) -> bool:
    return (
        messenger.tell(
            messenger.deputy(deputy),
            f"removed:{day.id}:{deputy.id}:{day.sequence}",
            now,
            email="reception_removed.txt",
            context={**day_context(day), "my_days_url": public_url("schedule.my_days")},
            sms="RECEPTION_REMOVED",
            params=day_params(day),
        )
        > 0
    )


def _announce_added(assignment: Assignment, now: dt.datetime) -> bool:
    # A deputy added after publication gets the same notice as at publication.
    return queue_deputy_reminder(assignment, "published", now) > 0


def _announce_cancelled(day: ReceptionDay, deputy: Deputy, now: dt.datetime) -> bool:
    return (
        messenger.tell(
            messenger.deputy(deputy),
            f"cancelled:{day.id}:{deputy.id}:{day.sequence}",
            now,
            email="reception_cancelled.txt",
            context=day_context(day),
            sms="RECEPTION_CANCELLED",
            params=day_params(day, reason=day.cancel_reason),
        )
        > 0
    )


# Who may hold a day


def _when(day: ReceptionDay) -> str:
    return f"{format_date(day.day, 'medium')} {time_window(day)}"


def _slot(day: ReceptionDay, needed: int = 1) -> Slot:
    return Slot(day.id, day.workroom_id, day.day, day.starts_at, day.ends_at, needed)


def _check_can_hold(day: ReceptionDay, deputy: Deputy) -> list[str]:
    """Refuse a deputy who may not hold ``day``; return warnings (over the monthly cap).

    The roster's rule decides (:func:`roster.why_not`), except that a change by hand may
    go over the monthly cap, with a warning. Raises DomainError on field "deputy_id" when
    the deputy is inactive, not attached to the workroom, unavailable that day, or
    already holding a reception day at an overlapping time anywhere; Conflict on that
    field when the deputy is already on duty that day (taken in the meantime).
    """
    name = deputy.name
    if not deputy.active:
        raise DomainError(_l("%(name)s is no longer active.", name=name), "deputy_id")
    candidates, commitments = _load_people(
        [day.workroom_id], day.day, day.day, {day}, deputy_ids=[deputy.id]
    )
    (candidate,) = candidates
    slot, duties = _slot(day), Duties(commitments)
    reason = why_not(candidate, slot, duties, over_cap=True)
    if reason == NOT_ATTACHED:
        raise DomainError(_l("%(name)s is not attached to this workroom.", name=name), "deputy_id")
    if any(a.deputy_id == deputy.id and a.status != "declined" for a in day.assignments):
        raise Conflict(_l("%(name)s is already on duty that day.", name=name), "deputy_id")
    if reason == UNAVAILABLE:
        # The period why_not found; its row holds the reason given.
        first, last = absence_on(candidate, day.day)
        why = db.session.scalar(
            sa.select(Unavailability.reason)
            .where(
                Unavailability.deputy_id == deputy.id,
                Unavailability.starts_on == first,
                Unavailability.ends_on == last,
            )
            .order_by(Unavailability.id)
            .limit(1)
        )
        raise DomainError(
            _l(
                "%(name)s is unavailable from %(first)s to %(last)s (%(reason)s).",
                name=name,
                first=format_date(first, "medium"),
                last=format_date(last, "medium"),
                reason=why or "—",
            ),
            "deputy_id",
        )
    if reason == BUSY_ELSEWHERE:
        held = duties.clash(deputy.id, day.day, day.starts_at, day.ends_at)
        clash = db.session.get(ReceptionDay, held.ref)
        raise DomainError(
            _l(
                "%(name)s already holds a reception day at %(workroom)s at that time (%(when)s).",
                name=name,
                workroom=clash.workroom.name,
                when=_when(clash),
            ),
            "deputy_id",
        )
    warnings: list[str] = []
    if why_not(candidate, slot, duties) == AT_CAP:
        warnings.append(
            _(
                "%(name)s now holds %(count)s reception days in %(month)s, over the "
                "monthly cap of %(cap)s.",
                name=name,
                count=duties.in_month(deputy.id, day.day) + 1,
                month=format_date(day.day.replace(day=1), "yyyy-MM"),
                cap=deputy.monthly_cap,
            )
        )
    return warnings


@dataclass(frozen=True)
class Option:
    """A deputy who might take a place on a day: ``reason`` is None when free, else
    "unavailable", "at_cap" or "busy_elsewhere" (see :func:`roster.why_not`)."""

    deputy: Deputy
    served_12m: int
    last_served: dt.date | None
    reason: str | None


def deputy_options(day: ReceptionDay) -> list[Option]:
    """Every active deputy attached to the day's workroom and not on it: the free ones
    first, ranked as the roster ranks them (fewest served in the trailing 12 months, then
    longest since last served, then the stable tie-break), then the others by name with
    the reason they cannot be picked."""
    candidates, commitments = _load_people([day.workroom_id], day.day, day.day, {day})
    taken = {a.deputy_id for a in day.assignments}
    pool = [c for c in candidates if c.deputy_id not in taken]
    if not pool:
        return []
    slot = _slot(day, len(pool))
    ranked = assign_deputies([slot], pool, commitments).assignments[day.id]
    deputies = {
        d.id: d
        for d in db.session.scalars(
            sa.select(Deputy).where(Deputy.id.in_([c.deputy_id for c in pool]))
        )
    }
    by_id = {c.deputy_id: c for c in pool}
    options = [Option(deputies[i], by_id[i].served_12m, by_id[i].last_served, None) for i in ranked]
    free, duties = set(ranked), Duties(commitments)
    others = [
        Option(deputies[c.deputy_id], c.served_12m, c.last_served, why_not(c, slot, duties))
        for c in pool
        if c.deputy_id not in free
    ]
    others.sort(key=lambda o: (o.deputy.name, o.deputy.id))
    return options + others


def propose_substitutes(day: ReceptionDay) -> list[Option]:
    """The free deputies for a place on ``day``, best first (see :func:`deputy_options`)."""
    return [o for o in deputy_options(day) if o.reason is None]


# Changes to a day


def check_changeable(day: ReceptionDay, now: dt.datetime) -> None:
    if day.status == "cancelled":
        raise Conflict(_l("This reception day is cancelled."))
    if day.starts_at <= now:
        raise Conflict(_l("This reception day has already begun."))


def refresh_unfilled(day: ReceptionDay) -> None:
    """Keep the "places empty" explanation true after a change by hand."""
    held = len(on_duty(day))
    if held >= day.deputies_needed:
        day.unfilled = None
        return
    attached = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(deputy_workroom)
        .join(Deputy, Deputy.id == deputy_workroom.c.deputy_id)
        .where(deputy_workroom.c.workroom_id == day.workroom_id, Deputy.active.is_(True))
    )
    day.unfilled = Explanation(
        needed=day.deputies_needed, assigned=held, attached=attached
    ).to_dict()


def _record_change(
    action: str, day: ReceptionDay, words: Any, actor: Any, now: dt.datetime
) -> None:
    """Audit a change of ``day``: its workroom and date, then what changed."""
    summary = f"{day.workroom.name} {day.day}: {stored_words(words)}"
    record(action, day, summary=summary, actor=actor, at=now)


def _assignment_of(day: ReceptionDay, deputy: Deputy) -> Assignment:
    for assignment in day.assignments:
        if assignment.deputy_id == deputy.id:
            return assignment
    # Someone took the deputy off in the meantime: the day is not as the page showed it.
    raise Conflict(_l("%(name)s is not on duty that day.", name=deputy.name), "assignment_id")


def withdraw_swaps(day: ReceptionDay, now: dt.datetime, deputy: Deputy | None = None) -> None:
    stmt = sa.select(SwapRequest).where(
        SwapRequest.reception_day_id == day.id, SwapRequest.status == "pending"
    )
    if deputy is not None:
        stmt = stmt.where(SwapRequest.deputy_id == deputy.id)
    for swap in db.session.scalars(stmt):
        swap.status = "withdrawn"
        swap.decided_at = now


def _take_off(day: ReceptionDay, assignment: Assignment) -> Deputy:
    deputy = assignment.deputy
    day.assignments.remove(assignment)
    db.session.flush()
    return deputy


def _put_on(day: ReceptionDay, deputy: Deputy) -> Assignment:
    existing = next((a for a in day.assignments if a.deputy_id == deputy.id), None)
    if existing is not None:
        # A deputy who declined and is asked back starts again from "assigned".
        existing.status = "assigned"
        existing.confirmed_at = None
        return existing
    assignment = Assignment(deputy=deputy, status="assigned")
    day.assignments.append(assignment)
    db.session.flush()
    return assignment


def replace_deputy(
    day: ReceptionDay,
    old: Deputy,
    new: Deputy,
    now: dt.datetime,
    actor: Any = None,
) -> Change:
    """Put ``new`` on the day in place of ``old``.

    On a published day the sequence rises and exactly the two deputies hear of it
    (``removed:…`` to the old, the publication notice to the new). Raises Conflict for
    a cancelled day or one that has begun or when ``old`` is no longer on the day,
    DomainError when ``new`` may not hold it (see :func:`_check_can_hold`). The caller
    commits.
    """
    now = as_utc_naive(now)
    lock(day, new)
    check_changeable(day, now)
    assignment = _assignment_of(day, old)
    warnings = _check_can_hold(day, new)
    published = day.status == "published"
    if published:
        increment(day, "sequence")
    _take_off(day, assignment)
    added = _put_on(day, new)
    withdraw_swaps(day, now, old)
    refresh_unfilled(day)
    _record_change(
        "reception_day.replace",
        day,
        _l("%(old)s replaced by %(new)s", old=old.name, new=new.name),
        actor,
        now,
    )
    change = Change(warnings=warnings)
    if published:
        if _announce_removed(day, old, now):
            change.notified.append(old)
        if _announce_added(added, now):
            change.notified.append(new)
    return change


def add_deputy(day: ReceptionDay, deputy: Deputy, now: dt.datetime, actor: Any = None) -> Change:
    """Put one more deputy on the day (the needed number stays as it is).

    On a published day the sequence rises and only the added deputy hears of it.
    Raises Conflict for a cancelled or begun day, DomainError when the deputy may not
    hold it. The caller commits.
    """
    now = as_utc_naive(now)
    lock(day, deputy)
    check_changeable(day, now)
    warnings = _check_can_hold(day, deputy)
    published = day.status == "published"
    if published:
        increment(day, "sequence")
    added = _put_on(day, deputy)
    refresh_unfilled(day)
    _record_change(
        "reception_day.add_deputy", day, _l("%(deputy)s added", deputy=deputy.name), actor, now
    )
    change = Change(warnings=warnings)
    if published and _announce_added(added, now):
        change.notified.append(deputy)
    return change


def remove_deputy(day: ReceptionDay, deputy: Deputy, now: dt.datetime, actor: Any = None) -> Change:
    """Take a deputy off the day; the place is left empty (and explained).

    On a published day the sequence rises and only the removed deputy hears of it;
    its pending swap request for the day is withdrawn. Raises Conflict for a cancelled
    or begun day, or when the deputy is no longer on it. The caller commits.
    """
    now = as_utc_naive(now)
    lock(day)
    check_changeable(day, now)
    assignment = _assignment_of(day, deputy)
    published = day.status == "published"
    if published:
        increment(day, "sequence")
    _take_off(day, assignment)
    withdraw_swaps(day, now, deputy)
    refresh_unfilled(day)
    _record_change(
        "reception_day.remove_deputy", day, _l("%(deputy)s removed", deputy=deputy.name), actor, now
    )
    change = Change()
    if published and _announce_removed(day, deputy, now):
        change.notified.append(deputy)
    return change


def cancel_day(day: ReceptionDay, reason: str, now: dt.datetime, actor: Any = None) -> Change:
    """Cancel a reception day, keeping the reason; nothing drafts it again.

    On a published day the sequence rises and every deputy on duty hears of it, with
    the reason; pending swap requests are withdrawn. Raises DomainError on field
    "reason" when it is empty or too long, Conflict for a cancelled or begun day. The
    caller commits.
    """
    now = as_utc_naive(now)
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(_l("Say why the day is cancelled."), "reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_l("Use at most %(n)s characters.", n=MAX_REASON), "reason")
    lock(day)
    check_changeable(day, now)
    published = day.status == "published"
    day.status = "cancelled"
    day.cancel_reason = reason
    if published:
        increment(day, "sequence")
    withdraw_swaps(day, now)
    _record_change(
        "reception_day.cancel", day, _l("cancelled (%(reason)s)", reason=reason), actor, now
    )
    change = Change()
    if published:
        for assignment in on_duty(day):
            if _announce_cancelled(day, assignment.deputy, now):
                change.notified.append(assignment.deputy)
    return change
