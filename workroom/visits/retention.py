"""Scheduled work of this area."""

from __future__ import annotations

import datetime as dt


def purge_visitor_data(now: dt.datetime) -> None:
    """Remove visitors' personal data past the retention period, keeping statistics."""
