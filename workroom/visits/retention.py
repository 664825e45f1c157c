"""Scheduled work of this area: removing visitors' personal data after the retention
period (``workroom.retention``), keeping every statistic (category, channel, times,
outcome). The citizens of suggestions follow their suggestion's clock
(``workroom.suggestions.retention``)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workroom.audit.log import record
from workroom.db import db
from workroom.retention import cutoff, erase_numbers_in
from workroom.visits.models import Visit

BATCH = 1000
FREE_TEXT = ("description", "summary", "notes")


def retention_cutoff(now: dt.datetime) -> dt.datetime:
    """Visits that arrived before this moment have passed the retention period (the one
    the privacy notice states)."""
    return cutoff("VISITOR_RETENTION_MONTHS", now)


def purge_visitor_data(now: dt.datetime) -> dict[str, int]:
    """Remove names, phone numbers and number hashes of visits past the retention period
    (config VISITOR_RETENTION_MONTHS, default 24) and mask the numbers in their free
    text. Marks each with ``purged_at``; a second run changes nothing.

    Returns how many visits were purged.
    """
    limit = retention_cutoff(now)
    purged = 0
    while True:
        ids = db.session.scalars(
            sa.select(Visit.id)
            .where(Visit.arrived_at < limit, Visit.purged_at.is_(None))
            .order_by(Visit.id)
            .limit(BATCH)
        ).all()
        if not ids:
            break
        erase_numbers_in(Visit.__table__, FREE_TEXT, Visit.id.in_(ids))
        db.session.execute(
            sa.update(Visit)
            .where(Visit.id.in_(ids))
            .values(visitor_name=None, phone=None, phone_hash=None, purged_at=now)
            .execution_options(synchronize_session=False)
        )
        purged += len(ids)
    if purged:
        record(
            "visit.purge",
            object_type="visit",
            summary=_l(
                "%(visits)s visits purged (arrived before %(day)s)",
                visits=purged,
                day=limit.date().isoformat(),
            ),
            at=now,
        )
    return {"visits": purged}
