"""Public tracking: a citizen looks up their suggestions with a tracking code (or the
receipt code of their visit) and the last 4 digits of their phone number.

An unknown code, a wrong phone and a locked code all get the same answer (None). Five
wrong attempts on a code in a day lock it until the next day, for unknown codes too, so
locking does not tell which codes exist. The pages are in ``views/public.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import re
import unicodedata
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from workroom.clock import local_date
from workroom.db import db, writing
from workroom.suggestions.lifecycle import handling_suggestion
from workroom.suggestions.models import (
    REPLY_CLASSES,
    Suggestion,
    SuggestionCitizen,
    SuggestionEvent,
    TrackingAttempt,
)
from workroom.visits.models import Visit

LOCK_AFTER = 5
_CODE = re.compile(r"^[0-9A-Z]{4,20}$")
_PHONE4 = re.compile(r"^\d{4}$")
_SEPARATORS = re.compile(r"[\s\-–—_.]")
# Steps that name the agency acting.
AGENCY_STEPS = ("assigned", "accepted", "replied", "rehandled")
STEP_LABELS = {
    "submitted": _l("Received"),
    "assigned": _l("Assigned to the responsible agency"),
    "accepted": _l("Accepted by the agency"),
    "replied": _l("Answered"),
    "closed": _l("Closed"),
    "rehandled": _l("Being handled again"),
    "merged": _l("Handled together with similar suggestions"),
}


def normalise_code(raw: str | None) -> str | None:
    """The code in capitals without spaces or dashes, or None if it cannot be one."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "")).upper()
    return text if _CODE.match(text) else None


def normalise_phone4(raw: str | None) -> str | None:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    return text if _PHONE4.match(text) else None


@dataclasses.dataclass(frozen=True)
class Step:
    on: dt.date
    kind: str
    label: str
    agency: str | None


@dataclasses.dataclass(frozen=True)
class Tracked:
    """What a citizen may see of one suggestion: nothing about other people."""

    code: str
    title: str
    status: str
    status_label: str
    submitted_on: dt.date
    steps: list[Step]
    reply_text: str | None
    reply_class: str | None
    replied_on: dt.date | None

    @property
    def reply_class_label(self) -> str:
        return str(REPLY_CLASSES.get(self.reply_class or "", ""))


@dataclasses.dataclass(frozen=True)
class TrackResult:
    kind: str  # "suggestion" or "visit"
    visit_on: dt.date | None
    suggestions: list[Tracked]


# Finding and locking


def is_locked(code: str, day: dt.date) -> bool:
    failures = db.session.scalar(
        sa.select(TrackingAttempt.failures).where(
            TrackingAttempt.code == code, TrackingAttempt.day == day
        )
    )
    return (failures or 0) >= LOCK_AFTER


def register_failure(code: str, day: dt.date) -> None:
    """Count one wrong attempt on ``code`` for ``day`` (the caller commits)."""

    def bump() -> int:
        result = db.session.execute(
            sa.update(TrackingAttempt)
            .where(TrackingAttempt.code == code, TrackingAttempt.day == day)
            .values(failures=TrackingAttempt.failures + 1)
        )
        return result.rowcount or 0

    if bump():
        return
    try:
        with db.session.begin_nested():
            db.session.add(TrackingAttempt(code=code, day=day, failures=1))
    except IntegrityError:
        # Another request counted the first failure at the same moment.
        bump()


def _matches(phone: str | None, phone4: str) -> bool:
    return bool(phone) and len(phone) >= 4 and hmac.compare_digest(phone[-4:], phone4)  # type: ignore[index]


def _steps(s: Suggestion) -> list[Step]:
    handling = handling_suggestion(s)
    events: list[SuggestionEvent] = [e for e in s.events if e.public]
    if handling is not s:
        events += [e for e in handling.events if e.public and e.kind != "submitted"]
    events.sort(key=lambda e: (e.at, e.id))
    return [
        Step(
            on=local_date(e.at),
            kind=e.kind,
            label=str(STEP_LABELS.get(e.kind, e.kind_label)),
            agency=e.agency.name if e.kind in AGENCY_STEPS and e.agency is not None else None,
        )
        for e in events
    ]


def _tracked(s: Suggestion) -> Tracked:
    handling = handling_suggestion(s)
    answered = handling.status in ("replied", "closed") and bool(handling.reply_text)
    return Tracked(
        code=s.tracking_code,
        title=s.title,
        status=handling.status,
        status_label=handling.status_label,
        submitted_on=local_date(s.created_at),
        steps=_steps(s),
        reply_text=handling.reply_text if answered else None,
        reply_class=handling.reply_class if answered else None,
        replied_on=local_date(handling.replied_at) if answered and handling.replied_at else None,
    )


def find(code: str, phone4: str) -> TrackResult | None:
    """The suggestions behind a tracking or receipt code, if ``phone4`` ends the phone
    number of one of its citizens; None otherwise (also for purged citizens)."""
    s = db.session.scalar(sa.select(Suggestion).where(Suggestion.tracking_code == code))
    if s is not None:
        if any(_matches(c.phone, phone4) for c in s.citizens if c.purged_at is None):
            return TrackResult(kind="suggestion", visit_on=None, suggestions=[_tracked(s)])
        return None
    visit = db.session.scalar(sa.select(Visit).where(Visit.receipt_code == code))
    if visit is None:
        return None
    citizens = db.session.scalars(
        sa.select(SuggestionCitizen)
        .where(SuggestionCitizen.visit_id == visit.id)
        .order_by(SuggestionCitizen.id)
    ).all()
    phones = [c.phone for c in citizens if c.purged_at is None]
    if visit.purged_at is None:
        phones.append(visit.phone)
    if not any(_matches(phone, phone4) for phone in phones):
        return None
    suggestions = sorted({c.suggestion for c in citizens}, key=lambda x: x.id)
    return TrackResult(
        kind="visit",
        visit_on=local_date(visit.arrived_at),
        suggestions=[_tracked(x) for x in suggestions],
    )


def lookup(code: str | None, phone4: str, now: dt.datetime) -> TrackResult | None:
    """Answer a lookup, counting a wrong one; None for unknown, wrong or locked codes."""
    if code is None:
        return None
    today = local_date(now)
    if is_locked(code, today):
        return None
    result = find(code, phone4)
    if result is None:
        with writing():
            register_failure(code, today)
            db.session.commit()
    return result


def as_json(result: TrackResult) -> dict[str, Any]:
    return {
        "kind": result.kind,
        "visit_on": result.visit_on.isoformat() if result.visit_on else None,
        "suggestions": [
            {
                "code": t.code,
                "title": t.title,
                "status": t.status,
                "status_label": t.status_label,
                "submitted_on": t.submitted_on.isoformat(),
                "steps": [
                    {
                        "on": step.on.isoformat(),
                        "step": step.kind,
                        "label": step.label,
                        "agency": step.agency,
                    }
                    for step in t.steps
                ],
                "reply": (
                    {
                        "text": t.reply_text,
                        "class": t.reply_class,
                        "class_label": t.reply_class_label,
                        "on": t.replied_on.isoformat() if t.replied_on else None,
                    }
                    if t.reply_text
                    else None
                ),
            }
            for t in result.suggestions
        ],
    }
