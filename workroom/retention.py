"""How long each kind of personal data is kept: the one list the purge jobs, the
privacy notice and the admin's settings page read.

Each period is a setting (months or days); the clock of each kind starts at a
different moment, and what goes when it ends is said here. Statistics (categories,
channels, times, outcomes, satisfaction) are never removed. Free text is kept; the
mobile and ID numbers in it are masked (``privacy.erase_numbers``): names in free text
cannot be found reliably.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from workroom.config import DefaultConfig
from workroom.db import db
from workroom.privacy import erase_numbers

# The Cybersecurity Law (art. 21) asks network logs to be kept at least six months.
MINIMUM_AUDIT_DAYS = 183


@dataclass(frozen=True)
class Retention:
    key: str
    what: object  # lazy strings: shown in the reader's language
    starts: object
    removed: object
    setting: str
    unit: str  # "months" or "days"
    minimum: int = 1


KINDS: tuple[Retention, ...] = (
    Retention(
        "visit",
        _l("Visitors' names, mobile numbers and number hashes"),
        _l("from the visit"),
        _l(
            "Name, number and hash removed; numbers in the visit's description, summary "
            "and notes masked."
        ),
        "VISITOR_RETENTION_MONTHS",
        "months",
    ),
    Retention(
        "suggestion_citizen",
        _l("The citizens of a suggestion (from a visit or added by staff)"),
        _l("from the suggestion's closing; open suggestions keep their citizens"),
        _l(
            "Names and numbers removed; numbers in the suggestion's text, reply, opinions, "
            "follow-up notes and timeline masked."
        ),
        "VISITOR_RETENTION_MONTHS",
        "months",
    ),
    Retention(
        "attachment",
        _l("Files citizens handed in with a suggestion"),
        _l("when the suggestion's citizens are removed"),
        _l("Files deleted; their names stay, marked as removed."),
        "VISITOR_RETENTION_MONTHS",
        "months",
    ),
    Retention(
        "outbox",
        _l("Recipients and texts of sent and failed messages"),
        _l("from the message's creation"),
        _l("Recipient masked, text removed; what was sent and when stays."),
        "OUTBOX_RETENTION_DAYS",
        "days",
    ),
    Retention(
        "audit",
        _l("The audit log"),
        _l("from the event"),
        _l(
            "Events deleted; the chain's seal at the cut is kept, so the rest still "
            "verifies. Never less than six months."
        ),
        "AUDIT_RETENTION_DAYS",
        "days",
        MINIMUM_AUDIT_DAYS,
    ),
)


def period(setting: str) -> int:
    """The configured length of ``setting`` (months or days), at least its minimum."""
    value = int(
        current_app.config[setting] if has_app_context() else getattr(DefaultConfig, setting)
    )
    minimum = max(k.minimum for k in KINDS if k.setting == setting)
    return max(minimum, value)


def cutoff(setting: str, now: dt.datetime) -> dt.datetime:
    """What started before this moment has passed the period of ``setting``."""
    unit = next(k.unit for k in KINDS if k.setting == setting)
    length = period(setting)
    delta = relativedelta(months=length) if unit == "months" else relativedelta(days=length)
    return now - delta


def erase_numbers_in(table: sa.Table, names: tuple[str, ...], where: sa.ColumnElement) -> None:
    """Mask the mobile and ID numbers in the text columns ``names`` of the rows of
    ``table`` matching ``where`` (``privacy.erase_numbers``); rows without any keep
    their text untouched."""
    keys = [column.name for column in table.primary_key.columns]
    rows = db.session.execute(
        sa.select(*(table.c[k] for k in keys), *(table.c[n] for n in names)).where(where)
    ).all()
    changed = []
    for row in rows:
        texts = {n: getattr(row, n) or "" for n in names}
        masked = {n: erase_numbers(text) for n, text in texts.items()}
        if masked != texts:
            changed.append({**{f"key_{k}": getattr(row, k) for k in keys}, **masked})
    if changed:
        db.session.execute(
            table.update()
            .where(*(table.c[k] == sa.bindparam(f"key_{k}") for k in keys))
            .values({n: sa.bindparam(n) for n in names}),
            changed,
        )


def visitor_months() -> int:
    """The months visitors' and citizens' personal data is kept (the privacy notice)."""
    return period("VISITOR_RETENTION_MONTHS")


@dataclass(frozen=True)
class Row:
    what: str
    period: str
    starts: str
    removed: str


def table() -> list[Row]:
    """Every kind with its period as configured, in the reader's language."""
    rows = []
    for kind in KINDS:
        n = period(kind.setting)
        length = _l("%(n)s months", n=n) if kind.unit == "months" else _l("%(n)s days", n=n)
        rows.append(Row(str(kind.what), str(length), str(kind.starts), str(kind.removed)))
    return rows
