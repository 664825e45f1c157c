"""Scheduled work of this area."""

from __future__ import annotations

import datetime as dt


def check_deadlines(now: dt.datetime) -> None:
    """Queue deadline warnings and overdue notices due at now."""
