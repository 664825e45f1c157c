"""Scheduled work of this area."""

from __future__ import annotations

import datetime as dt


def send_reminders(now: dt.datetime) -> None:
    """Queue reminders to deputies and alerts to liaisons that are due at now."""
