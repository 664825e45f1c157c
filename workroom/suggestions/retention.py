"""Scheduled work of this area: removing the citizens of suggestions after the
retention period (``workroom.retention``).

A suggestion's clock starts when it is closed (a merged one's, when the suggestion it
was merged into is closed); open suggestions keep their citizens, whether they came
from a visit or were added by staff. The numbers in the suggestion's free text are
masked at the same time; every statistic stays.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from workroom.audit.log import record
from workroom.db import db
from workroom.retention import cutoff, erase_numbers_in
from workroom.suggestions.models import (
    ExtensionRequest,
    Suggestion,
    SuggestionAgency,
    SuggestionCitizen,
    SuggestionEvent,
)

BATCH = 500

# Each table's free text, and the column naming its suggestion.
FREE_TEXT: tuple[tuple[Any, tuple[str, ...], str], ...] = (
    (Suggestion, ("title", "content", "reply_text", "routing_note"), "id"),
    (SuggestionCitizen, ("follow_up_note",), "suggestion_id"),
    (SuggestionEvent, ("note",), "suggestion_id"),
    (SuggestionAgency, ("opinion",), "suggestion_id"),
    (ExtensionRequest, ("reason", "decision_note"), "suggestion_id"),
)


def finished_before(limit: dt.datetime) -> sa.Select:
    """Ids of suggestions not yet purged that were closed before ``limit``, or merged
    into one that was."""
    into = aliased(Suggestion)
    return (
        sa.select(Suggestion.id)
        .outerjoin(into, Suggestion.merged_into_id == into.id)
        .where(
            Suggestion.purged_at.is_(None),
            sa.or_(
                sa.and_(Suggestion.status == "closed", Suggestion.closed_at < limit),
                sa.and_(
                    Suggestion.status == "merged",
                    into.status == "closed",
                    into.closed_at < limit,
                ),
            ),
        )
        .order_by(Suggestion.id)
    )


def purge_suggestion_citizens(now: dt.datetime) -> dict[str, int]:
    """Remove the names and numbers of the citizens of suggestions closed before the
    retention period, and mask the numbers in those suggestions' free text. Marks
    citizens and suggestions with ``purged_at``; a second run changes nothing.

    Returns how many suggestions and citizens were purged.
    """
    limit = cutoff("VISITOR_RETENTION_MONTHS", now)
    suggestions = citizens = 0
    while True:
        ids = db.session.scalars(finished_before(limit).limit(BATCH)).all()
        if not ids:
            break
        citizens += (
            db.session.execute(
                sa.update(SuggestionCitizen)
                .where(
                    SuggestionCitizen.suggestion_id.in_(ids),
                    SuggestionCitizen.purged_at.is_(None),
                )
                .values(name=None, phone=None, purged_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            or 0
        )
        for model, names, link in FREE_TEXT:
            erase_numbers_in(model.__table__, names, model.__table__.c[link].in_(ids))
        db.session.execute(
            sa.update(Suggestion)
            .where(Suggestion.id.in_(ids))
            .values(purged_at=now)
            .execution_options(synchronize_session=False)
        )
        suggestions += len(ids)
    if suggestions:
        record(
            "suggestion.purge",
            object_type="suggestion",
            summary=_l(
                "%(citizens)s citizens of %(suggestions)s suggestions purged "
                "(closed before %(day)s)",
                citizens=citizens,
                suggestions=suggestions,
                day=limit.date().isoformat(),
            ),
            at=now,
        )
    return {"suggestions": suggestions, "citizens": citizens}
