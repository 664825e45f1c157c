"""Create and change a workroom's reception rules. The rule language (RRULE text, plain
words, the dates a rule falls on) is in ``rules.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workroom.audit.log import record
from workroom.db import db
from workroom.i18n import default_locale
from workroom.places.models import Workroom
from workroom.schedule.models import ReceptionRule
from workroom.schedule.rules import check_rule


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
        summary=f"{workroom.name}: {rule.describe(default_locale())}",
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
    summary = f"{rule.workroom.name}: {rule.describe(default_locale())}"
    if rule.active != active:
        rule.active = active
        action = "activate" if active else "deactivate"
        record(f"reception_rule.{action}", rule, summary=summary, actor=actor)
    record("reception_rule.update", rule, summary=summary, actor=actor)
