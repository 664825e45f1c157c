"""Liaison opening hours: "09:00-12:00,14:30-17:30" on every working day."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from flask_babel import lazy_gettext as _l

from workroom.errors import DomainError

_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–~至到]\s*(\d{1,2}):(\d{2})$")


def parse_hours(text: str, field: str = "liaison_hours") -> list[tuple[dt.time, dt.time]]:
    """Parse comma-separated time ranges; raise DomainError on anything else.

    Ranges must be in order and must not overlap. An empty text means no hours.
    """
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return []
    ranges: list[tuple[dt.time, dt.time]] = []
    for part in re.split(r"[,;，；、]", text):
        match = _RANGE.match(part.strip())
        if not match:
            raise DomainError(_l("Write hours like 09:00-12:00, 14:30-17:30."), field)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise DomainError(_l("Write hours like 09:00-12:00, 14:30-17:30."), field)
        start, end = dt.time(h1, m1), dt.time(h2, m2)
        if start >= end:
            raise DomainError(_l("Each range must end after it starts."), field)
        if ranges and start < ranges[-1][1]:
            raise DomainError(_l("Ranges must be in order and must not overlap."), field)
        ranges.append((start, end))
    return ranges


def format_hours(ranges: list[tuple[dt.time, dt.time]]) -> str:
    return ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges)
