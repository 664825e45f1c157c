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
from workroom.privacy import erase_numbers
from workroom.retention import cutoff
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
    columns = [getattr(Visit, name) for name in FREE_TEXT]
    purged = 0
    while True:
        rows = db.session.execute(
            sa.select(Visit.id, *columns)
            .where(Visit.arrived_at < limit, Visit.purged_at.is_(None))
            .order_by(Visit.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        ids = [row.id for row in rows]
        db.session.execute(
            sa.update(Visit)
            .where(Visit.id.in_(ids))
            .values(visitor_name=None, phone=None, phone_hash=None, purged_at=now)
            .execution_options(synchronize_session=False)
        )
        masked = [
            {"vid": row.id, **{name: erase_numbers(getattr(row, name) or "") for name in FREE_TEXT}}
            for row in rows
            if any(
                erase_numbers(getattr(row, n) or "") != (getattr(row, n) or "") for n in FREE_TEXT
            )
        ]
        if masked:
            table = Visit.__table__
            db.session.execute(
                table.update()
                .where(table.c.id == sa.bindparam("vid"))
                .values({name: sa.bindparam(name) for name in FREE_TEXT}),
                masked,
            )
        purged += len(rows)
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
