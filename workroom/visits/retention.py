"""Scheduled work of this area: removing visitors' personal data after the retention
period, keeping every statistic (category, channel, times, outcome)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l

from workroom.audit.log import record
from workroom.db import db
from workroom.visits.models import Visit
from workroom.visits.privacy_notice import retention_months


def retention_cutoff(now: dt.datetime) -> dt.datetime:
    """Visits that arrived before this moment have passed the retention period (the one
    the privacy notice states)."""
    return now - relativedelta(months=max(1, retention_months()))


def purge_visitor_data(now: dt.datetime) -> dict[str, int]:
    """Remove names, phone numbers and number hashes of visits past the retention period
    (config VISITOR_RETENTION_MONTHS, default 24), and of the suggestion citizens those
    visits became. Marks each with ``purged_at``; a second run changes nothing.

    Returns how many visits and citizens were purged.
    """
    cutoff = retention_cutoff(now)
    expired = sa.select(Visit.id).where(Visit.arrived_at < cutoff)
    # The suggestions area sits above visits (it may import us, not the reverse),
    # so its table is reached through the shared metadata.
    citizen = db.metadata.tables["suggestion_citizen"]
    citizens = db.session.execute(
        sa.update(citizen)
        .where(citizen.c.visit_id.in_(expired), citizen.c.purged_at.is_(None))
        .values(name=None, phone=None, purged_at=now)
    ).rowcount
    visits = db.session.execute(
        sa.update(Visit)
        .where(Visit.arrived_at < cutoff, Visit.purged_at.is_(None))
        .values(visitor_name=None, phone=None, phone_hash=None, purged_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    counts = {"visits": visits or 0, "citizens": citizens or 0}
    if visits or citizens:
        record(
            "visit.purge",
            object_type="visit",
            summary=_l(
                "%(visits)s visits and %(citizens)s suggestion citizens purged "
                "(arrived before %(day)s)",
                visits=counts["visits"],
                citizens=counts["citizens"],
                day=cutoff.date().isoformat(),
            ),
            at=now,
        )
    return counts
