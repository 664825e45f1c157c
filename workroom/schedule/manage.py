"""Reception rules, generating and publishing a period, and every change to a day after
that: replace, add or remove a deputy, cancel the day, swap requests.

Each change to a published day raises its ``sequence`` and notifies, through the
outbox, exactly the deputies it affects, under keys that carry the sequence
(``removed:<day>:<deputy>:<sequence>:<channel>``), so a repeat queues nothing twice.
Changes to a draft notify nobody: drafts are announced when published.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from workroom.audit.log import record
from workroom.clock import as_utc_naive
from workroom.db import db
from workroom.errors import Conflict, DomainError
from workroom.outbox.queue import queue_email, queue_sms
from workroom.people.models import Deputy, Unavailability, deputy_workroom
from workroom.places.models import Workroom
from workroom.privacy import normalize_mobile
from workroom.schedule.feeds import on_duty, time_window
from workroom.schedule.generate import _load_people, generate_roster
from workroom.schedule.models import Assignment, ReceptionDay, ReceptionRule, SwapRequest
from workroom.schedule.reminders import (
    queue_deputy_reminder,
    respond_to_assignment,
    workroom_liaisons,
)
from workroom.schedule.roster import Explanation, RosterResult, Slot, assign_deputies
from workroom.schedule.rules import check_rule
from workroom.schedule.tokens import public_url
from workroom.workdays.calendar import unconfirmed_message, working_calendar

# Months a period may cover: a month, a quarter, a year.
PERIOD_LENGTHS = {
    1: _l("One month"),
    3: _l("A quarter (3 months)"),
    12: _l("A year (12 months)"),
}
MAX_REASON = 200
# SMS template ids of the changes announced here; SMS_TEMPLATES maps them to the
# gateway's own ids.
SMS_REMOVED = "RECEPTION_REMOVED"
SMS_CANCELLED = "RECEPTION_CANCELLED"
SMS_SWAP_REFUSED = "RECEPTION_SWAP_REFUSED"


@dataclass
class Change:
    """What a change did: the deputies told about it and warnings for the person acting."""

    notified: list[Deputy] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Rules


def _rule_values(
    rrule: str,
    starts_at_time: dt.time,
    ends_at_time: dt.time,
    deputies_needed: int,
    capacity: int,
    valid_from: dt.date,
    valid_until: dt.date | None,
    on_non_working_day: str,
) -> dict[str, Any]:
    values = {
        "rrule": rrule,
        "starts_at_time": starts_at_time,
        "ends_at_time": ends_at_time,
        "deputies_needed": deputies_needed,
        "capacity": capacity,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "on_non_working_day": on_non_working_day,
    }
    values["rrule"] = check_rule(**values)
    return values


def create_rule(
    workroom: Workroom,
    *,
    rrule: str,
    starts_at_time: dt.time,
    ends_at_time: dt.time,
    deputies_needed: int,
    capacity: int,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    on_non_working_day: str = "skip",
    actor: Any = None,
) -> ReceptionRule:
    """Add an active reception rule to a workroom; the RRULE is stored canonical.

    Raises DomainError on the first wrong field (see :func:`rules.check_rule`).
    """
    values = _rule_values(
        rrule,
        starts_at_time,
        ends_at_time,
        deputies_needed,
        capacity,
        valid_from,
        valid_until,
        on_non_working_day,
    )
    rule = ReceptionRule(workroom=workroom, active=True, **values)
    db.session.add(rule)
    db.session.flush()
    record(
        "reception_rule.create",
        rule,
        summary=f"{workroom.name}: {rule.describe('en')}",
        actor=actor,
    )
    return rule


def update_rule(
    rule: ReceptionRule,
    *,
    rrule: str,
    starts_at_time: dt.time,
    ends_at_time: dt.time,
    deputies_needed: int,
    capacity: int,
    valid_from: dt.date,
    valid_until: dt.date | None,
    on_non_working_day: str,
    active: bool,
    actor: Any = None,
) -> None:
    """Change a rule, or deactivate it (it then drafts no more days; published days stay).

    Raises DomainError on the first wrong field.
    """
    values = _rule_values(
        rrule,
        starts_at_time,
        ends_at_time,
        deputies_needed,
        capacity,
        valid_from,
        valid_until,
        on_non_working_day,
    )
    for name, value in values.items():
        setattr(rule, name, value)
    summary = f"{rule.workroom.name}: {rule.describe('en')}"
    if rule.active != active:
        rule.active = active
        action = "activate" if active else "deactivate"
        record(f"reception_rule.{action}", rule, summary=summary, actor=actor)
    record("reception_rule.update", rule, summary=summary, actor=actor)


# Periods and generation


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
                summary=(
                    f"Holiday arrangements for {year} checked by hand before generating "
                    f"{start}–{end} for {where}; the year stays unconfirmed"
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
    where = workroom.name if workroom else "all workrooms"
    record(
        "roster.publish",
        object_type="roster",
        object_id=f"{start}/{end}",
        summary=f"{where} {start}–{end}: {len(drafts)} days published, {messages} messages",
        actor=actor,
        at=now,
    )
    db.session.flush()
    return drafts


# Notifications of changes


def _locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")


def sms_template(name: str) -> str:
    """The gateway's template id for one of ours (setting SMS_TEMPLATES, default the same)."""
    return (current_app.config.get("SMS_TEMPLATES") or {}).get(name, name)


def _mobile(phone: str) -> str | None:
    if not phone:
        return None
    try:
        return normalize_mobile(phone)
    except DomainError:
        return None


def _tell_deputy(
    deputy: Deputy,
    key: str,
    subject: str,
    lines: list[str],
    template: str,
    params: dict[str, str],
    now: dt.datetime,
) -> bool:
    """Email and SMS a deputy, on the channels it has; True when anything was queued."""
    queued = False
    if deputy.email and "@" in deputy.email:
        body = "\n\n".join([_("Dear %(name)s,", name=deputy.name), *lines])
        queue_email(f"{key}:email", deputy.email, subject, body + "\n", now)
        queued = True
    mobile = _mobile(deputy.phone)
    if mobile:
        queue_sms(f"{key}:sms", mobile, sms_template(template), params, now)
        queued = True
    return queued


def _day_words(day: ReceptionDay) -> dict[str, str]:
    return {
        "date": format_date(day.day, "full"),
        "time": time_window(day),
        "workroom": day.workroom.name,
    }


def _sms_params(day: ReceptionDay, **extra: str) -> dict[str, str]:
    return {
        "date": format_date(day.day, "long"),
        "time": time_window(day),
        "workroom": day.workroom.name,
        **extra,
    }


def _announce_removed(day: ReceptionDay, deputy: Deputy, now: dt.datetime) -> bool:
    with force_locale(_locale()):
        words = _day_words(day)
        return _tell_deputy(
            deputy,
            f"removed:{day.id}:{deputy.id}:{day.sequence}",
            _("You are no longer on duty on %(date)s at %(workroom)s", **words),
            [
                _(
                    "You have been taken off the reception day at %(workroom)s on %(date)s, "
                    "%(time)s. Nothing more is needed from you.",
                    **words,
                ),
                _("Your reception days: %(url)s", url=public_url("schedule.my_days")),
            ],
            SMS_REMOVED,
            _sms_params(day),
            now,
        )


def _announce_added(assignment: Assignment, now: dt.datetime) -> bool:
    # A deputy added after publication gets the same notice as at publication.
    return queue_deputy_reminder(assignment, "published", now) > 0


def _announce_cancelled(day: ReceptionDay, deputy: Deputy, now: dt.datetime) -> bool:
    with force_locale(_locale()):
        words = _day_words(day)
        return _tell_deputy(
            deputy,
            f"cancelled:{day.id}:{deputy.id}:{day.sequence}",
            _("Cancelled: reception day on %(date)s at %(workroom)s", **words),
            [
                _(
                    "The reception day at %(workroom)s on %(date)s, %(time)s is cancelled.",
                    **words,
                ),
                _("Reason: %(reason)s", reason=day.cancel_reason),
            ],
            SMS_CANCELLED,
            _sms_params(day, reason=day.cancel_reason),
            now,
        )


def _alert_liaisons(
    day: ReceptionDay, key: str, subject: str, lines: list[str], now: dt.datetime
) -> int:
    count = 0
    for user in workroom_liaisons(day.workroom_id):
        if user.email and "@" in user.email:
            body = "\n\n".join([_("Hello %(name)s,", name=str(user)), *lines])
            queue_email(f"{key}:liaison-{user.id}", user.email, subject, body + "\n", now)
            count += 1
    return count


# Who may hold a day


def _when(day: ReceptionDay) -> str:
    return f"{format_date(day.day, 'medium')} {time_window(day)}"


def _check_can_hold(day: ReceptionDay, deputy: Deputy) -> list[str]:
    """Refuse a deputy who may not hold ``day``; return warnings (over the monthly cap).

    Raises DomainError on field "deputy_id" when the deputy is inactive, not attached to
    the workroom, already on duty that day, unavailable that day, or already holding a
    reception day at an overlapping time anywhere.
    """
    name = deputy.name
    if not deputy.active:
        raise DomainError(_l("%(name)s is no longer active.", name=name), "deputy_id")
    attached = db.session.scalar(
        sa.select(deputy_workroom.c.deputy_id).where(
            deputy_workroom.c.deputy_id == deputy.id,
            deputy_workroom.c.workroom_id == day.workroom_id,
        )
    )
    if attached is None:
        raise DomainError(_l("%(name)s is not attached to this workroom.", name=name), "deputy_id")
    if any(a.deputy_id == deputy.id and a.status != "declined" for a in day.assignments):
        raise DomainError(_l("%(name)s is already on duty that day.", name=name), "deputy_id")
    away = db.session.scalar(
        sa.select(Unavailability)
        .where(
            Unavailability.deputy_id == deputy.id,
            Unavailability.starts_on <= day.day,
            Unavailability.ends_on >= day.day,
        )
        .order_by(Unavailability.starts_on)
    )
    if away is not None:
        raise DomainError(
            _l(
                "%(name)s is unavailable from %(first)s to %(last)s (%(reason)s).",
                name=name,
                first=format_date(away.starts_on, "medium"),
                last=format_date(away.ends_on, "medium"),
                reason=away.reason or "—",
            ),
            "deputy_id",
        )
    clash = db.session.scalar(
        sa.select(ReceptionDay)
        .join(Assignment, Assignment.reception_day_id == ReceptionDay.id)
        .where(
            Assignment.deputy_id == deputy.id,
            Assignment.status != "declined",
            ReceptionDay.status != "cancelled",
            ReceptionDay.id != day.id,
            ReceptionDay.starts_at < day.ends_at,
            ReceptionDay.ends_at > day.starts_at,
        )
        .order_by(ReceptionDay.starts_at)
    )
    if clash is not None:
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
    if deputy.monthly_cap is not None:
        first = day.day.replace(day=1)
        last = first + relativedelta(months=1) - dt.timedelta(days=1)
        held = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Assignment)
            .join(ReceptionDay, ReceptionDay.id == Assignment.reception_day_id)
            .where(
                Assignment.deputy_id == deputy.id,
                Assignment.status != "declined",
                ReceptionDay.status != "cancelled",
                ReceptionDay.id != day.id,
                ReceptionDay.day.between(first, last),
            )
        )
        if held >= deputy.monthly_cap:
            warnings.append(
                _(
                    "%(name)s now holds %(count)s reception days in %(month)s, over the "
                    "monthly cap of %(cap)s.",
                    name=name,
                    count=held + 1,
                    month=format_date(first, "yyyy-MM"),
                    cap=deputy.monthly_cap,
                )
            )
    return warnings


@dataclass(frozen=True)
class Option:
    """A deputy who might take a place on a day: ``reason`` is None when free, else
    "unavailable", "at_cap" or "busy_elsewhere" (the roster's words)."""

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
    slot = Slot(day.id, day.workroom_id, day.day, day.starts_at, day.ends_at, len(pool))
    ranked = assign_deputies([slot], pool, commitments).assignments[day.id]
    deputies = {
        d.id: d
        for d in db.session.scalars(
            sa.select(Deputy).where(Deputy.id.in_([c.deputy_id for c in pool]))
        )
    }
    month_load: dict[int, int] = defaultdict(int)
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for held in commitments:
        if (held.day.year, held.day.month) == (day.day.year, day.day.month):
            month_load[held.deputy_id] += 1
        if held.day == day.day:
            busy[held.deputy_id].append((held.start, held.end))
    by_id = {c.deputy_id: c for c in pool}
    options = [Option(deputies[i], by_id[i].served_12m, by_id[i].last_served, None) for i in ranked]
    free = set(ranked)
    others = []
    for candidate in pool:
        if candidate.deputy_id in free:
            continue
        if any(a <= day.day <= b for a, b in candidate.unavailable):
            reason = "unavailable"
        elif candidate.monthly_cap is not None and (
            month_load[candidate.deputy_id] >= candidate.monthly_cap
        ):
            reason = "at_cap"
        else:
            reason = "busy_elsewhere"
        others.append(
            Option(
                deputies[candidate.deputy_id],
                candidate.served_12m,
                candidate.last_served,
                reason,
            )
        )
    others.sort(key=lambda o: (o.deputy.name, o.deputy.id))
    return options + others


def propose_substitutes(day: ReceptionDay) -> list[Option]:
    """The free deputies for a place on ``day``, best first (see :func:`deputy_options`)."""
    return [o for o in deputy_options(day) if o.reason is None]


# Changes to a day


def _check_changeable(day: ReceptionDay, now: dt.datetime) -> None:
    if day.status == "cancelled":
        raise Conflict(_l("This reception day is cancelled."))
    if day.starts_at <= now:
        raise Conflict(_l("This reception day has already begun."))


def _refresh_unfilled(day: ReceptionDay) -> None:
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


def _assignment_of(day: ReceptionDay, deputy: Deputy) -> Assignment:
    for assignment in day.assignments:
        if assignment.deputy_id == deputy.id:
            return assignment
    raise DomainError(_l("%(name)s is not on duty that day.", name=deputy.name), "assignment_id")


def _withdraw_swaps(day: ReceptionDay, now: dt.datetime, deputy: Deputy | None = None) -> None:
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
    a cancelled day or one that has begun, DomainError when ``old`` is not on the day
    or ``new`` may not hold it (see :func:`_check_can_hold`). The caller commits.
    """
    now = as_utc_naive(now)
    _check_changeable(day, now)
    assignment = _assignment_of(day, old)
    warnings = _check_can_hold(day, new)
    published = day.status == "published"
    if published:
        day.sequence += 1
    _take_off(day, assignment)
    added = _put_on(day, new)
    _withdraw_swaps(day, now, old)
    _refresh_unfilled(day)
    record(
        "reception_day.replace",
        day,
        summary=f"{day.workroom.name} {day.day}: {old.name} replaced by {new.name}",
        actor=actor,
        at=now,
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
    _check_changeable(day, now)
    warnings = _check_can_hold(day, deputy)
    published = day.status == "published"
    if published:
        day.sequence += 1
    added = _put_on(day, deputy)
    _refresh_unfilled(day)
    record(
        "reception_day.add_deputy",
        day,
        summary=f"{day.workroom.name} {day.day}: {deputy.name} added",
        actor=actor,
        at=now,
    )
    change = Change(warnings=warnings)
    if published and _announce_added(added, now):
        change.notified.append(deputy)
    return change


def remove_deputy(day: ReceptionDay, deputy: Deputy, now: dt.datetime, actor: Any = None) -> Change:
    """Take a deputy off the day; the place is left empty (and explained).

    On a published day the sequence rises and only the removed deputy hears of it;
    its pending swap request for the day is withdrawn. Raises Conflict for a cancelled
    or begun day, DomainError when the deputy is not on it. The caller commits.
    """
    now = as_utc_naive(now)
    _check_changeable(day, now)
    assignment = _assignment_of(day, deputy)
    published = day.status == "published"
    if published:
        day.sequence += 1
    _take_off(day, assignment)
    _withdraw_swaps(day, now, deputy)
    _refresh_unfilled(day)
    record(
        "reception_day.remove_deputy",
        day,
        summary=f"{day.workroom.name} {day.day}: {deputy.name} removed",
        actor=actor,
        at=now,
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
    _check_changeable(day, now)
    published = day.status == "published"
    day.status = "cancelled"
    day.cancel_reason = reason
    if published:
        day.sequence += 1
    _withdraw_swaps(day, now)
    record(
        "reception_day.cancel",
        day,
        summary=f"{day.workroom.name} {day.day}: cancelled ({reason})",
        actor=actor,
        at=now,
    )
    change = Change()
    if published:
        for assignment in on_duty(day):
            if _announce_cancelled(day, assignment.deputy, now):
                change.notified.append(assignment.deputy)
    return change


# A deputy's own days


def my_days(deputy_id: int, now: dt.datetime) -> Sequence[Assignment]:
    """A deputy's assignments on published or cancelled days that have not ended."""
    now = as_utc_naive(now)
    return db.session.scalars(
        sa.select(Assignment)
        .join(ReceptionDay, ReceptionDay.id == Assignment.reception_day_id)
        .where(
            Assignment.deputy_id == deputy_id,
            ReceptionDay.status.in_(("published", "cancelled")),
            ReceptionDay.ends_at > now,
        )
        .options(
            selectinload(Assignment.reception_day).selectinload(ReceptionDay.workroom),
        )
        .order_by(ReceptionDay.starts_at, ReceptionDay.id)
    ).all()


def respond(assignment: Assignment, action: str, now: dt.datetime) -> bool:
    """Confirm or decline an assignment for its deputy (a decline alerts the liaison).

    The same function answers the links in reminders; see
    :func:`reminders.respond_to_assignment` for what it raises.
    """
    changed = respond_to_assignment(assignment, action, as_utc_naive(now))
    if changed and action == "decline":
        day = assignment.reception_day
        _withdraw_swaps(day, as_utc_naive(now), assignment.deputy)
        _refresh_unfilled(day)
    return changed


def pending_swap(assignment: Assignment) -> SwapRequest | None:
    return db.session.scalar(
        sa.select(SwapRequest).where(
            SwapRequest.reception_day_id == assignment.reception_day_id,
            SwapRequest.deputy_id == assignment.deputy_id,
            SwapRequest.status == "pending",
        )
    )


def request_swap(
    assignment: Assignment, reason: str, now: dt.datetime, actor: Any = None
) -> SwapRequest:
    """A deputy asks to hand its place on a published day to someone else.

    The workroom's liaisons get an email. Raises DomainError on field "reason" when it
    is empty or too long, Conflict when the day is not published, has begun, the
    deputy declined it, or a request is already waiting. The caller commits.
    """
    now = as_utc_naive(now)
    reason = " ".join((reason or "").split())
    day = assignment.reception_day
    if not reason:
        raise DomainError(_l("Say why you need to swap."), "reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_l("Use at most %(n)s characters.", n=MAX_REASON), "reason")
    _check_changeable(day, now)
    if day.status != "published":
        raise Conflict(_l("Only a published day can be swapped."))
    if assignment.status == "declined":
        raise Conflict(_l("You declined this day."))
    if pending_swap(assignment) is not None:
        raise Conflict(_l("Your swap request for this day is already waiting."))
    deputy = assignment.deputy
    swap = SwapRequest(
        workroom_id=day.workroom_id,
        reception_day=day,
        deputy=deputy,
        reason=reason,
        status="pending",
        requested_at=now,
        decision_note="",
    )
    db.session.add(swap)
    db.session.flush()
    record(
        "swap_request.create",
        swap,
        summary=f"{deputy.name} asks to swap {day.day} at {day.workroom.name}: {reason}",
        actor=actor,
        at=now,
    )
    with force_locale(_locale()):
        words = _day_words(day)
        _alert_liaisons(
            day,
            f"swap-requested:{swap.id}",
            _("Swap request: %(name)s, %(date)s at %(workroom)s", name=deputy.name, **words),
            [
                _(
                    "%(name)s asks to swap the reception day at %(workroom)s on %(date)s, "
                    "%(time)s.",
                    name=deputy.name,
                    **words,
                ),
                _("Reason: %(reason)s", reason=reason),
                _(
                    "Choose a substitute: %(url)s",
                    url=public_url("schedule.swaps", workroom_id=day.workroom_id),
                ),
            ],
            now,
        )
    return swap


def _check_pending(swap: SwapRequest) -> None:
    if swap.status != "pending":
        raise Conflict(_l("This swap request was already answered."))


def approve_swap(
    swap: SwapRequest, substitute: Deputy, now: dt.datetime, actor: Any = None
) -> Change:
    """Hand the requester's place to ``substitute``: the sequence rises, the requester
    and the substitute are told (see :func:`replace_deputy`).

    Raises Conflict when the request was answered or the day is cancelled or begun,
    DomainError on field "deputy_id" when the substitute may not hold the day.
    The caller commits.
    """
    now = as_utc_naive(now)
    _check_pending(swap)
    day = swap.reception_day
    change = replace_deputy(day, swap.deputy, substitute, now, actor)
    swap.status = "approved"
    swap.substitute = substitute
    swap.decided_at = now
    swap.decided_by_id = getattr(actor, "id", None)
    record(
        "swap_request.approve",
        swap,
        summary=f"{swap.deputy.name} → {substitute.name}, {day.day} at {day.workroom.name}",
        actor=actor,
        at=now,
    )
    return change


def refuse_swap(swap: SwapRequest, note: str, now: dt.datetime, actor: Any = None) -> Change:
    """Refuse a swap request; the requester stays on duty and is told, with the note.

    Raises Conflict when the request was already answered or its day is cancelled or
    has begun, DomainError on field "note" when it is too long. The caller commits.
    """
    now = as_utc_naive(now)
    _check_pending(swap)
    _check_changeable(swap.reception_day, now)
    note = " ".join((note or "").split())
    if len(note) > MAX_REASON:
        raise DomainError(_l("Use at most %(n)s characters.", n=MAX_REASON), "note")
    swap.status = "refused"
    swap.decision_note = note
    swap.decided_at = now
    swap.decided_by_id = getattr(actor, "id", None)
    day = swap.reception_day
    record(
        "swap_request.refuse",
        swap,
        summary=f"{swap.deputy.name}, {day.day} at {day.workroom.name}: {note}",
        actor=actor,
        at=now,
    )
    change = Change()
    with force_locale(_locale()):
        words = _day_words(day)
        lines = [
            _(
                "Your request to swap the reception day at %(workroom)s on %(date)s, "
                "%(time)s was not approved. You remain on duty.",
                **words,
            )
        ]
        if note:
            lines.append(_("Note from the liaison: %(note)s", note=note))
        if _tell_deputy(
            swap.deputy,
            f"swap-refused:{swap.id}",
            _("Swap request not approved: %(date)s at %(workroom)s", **words),
            lines,
            SMS_SWAP_REFUSED,
            _sms_params(day),
            now,
        ):
            change.notified.append(swap.deputy)
    return change


def pending_swaps(workroom: Workroom, now: dt.datetime) -> Sequence[SwapRequest]:
    """The workroom's waiting swap requests on days that have not begun, soonest first."""
    return db.session.scalars(
        sa.select(SwapRequest)
        .join(ReceptionDay, ReceptionDay.id == SwapRequest.reception_day_id)
        .where(
            SwapRequest.workroom_id == workroom.id,
            SwapRequest.status == "pending",
            ReceptionDay.starts_at > as_utc_naive(now),
        )
        .order_by(ReceptionDay.starts_at, SwapRequest.id)
    ).all()
