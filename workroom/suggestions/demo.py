"""Demo data of this area (called by workroom.demo.seed_demo)."""

from __future__ import annotations

import datetime as dt


def seed(now: dt.datetime) -> int:
    """Add this area's demo data if missing; return how many records were created."""
    return 0
