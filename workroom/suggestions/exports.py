"""CSV and Excel exports of suggestion lists.

Phone numbers are masked. The files are written by ``workroom.spreadsheet``: dates are
date cells in .xlsx, and no text can become a formula (in CSV a text starting with
= + - @, a tab or a carriage return gets a leading apostrophe; in .xlsx it is a plain
string cell).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from workroom import spreadsheet
from workroom.db import db
from workroom.privacy import mask_phone
from workroom.suggestions.deadlines import deadline_state
from workroom.suggestions.models import REPLY_CLASSES, SOURCES, Suggestion, SuggestionAgency
from workroom.workdays.calendar import WorkingCalendar

BATCH = 500

# The views answer an export with the spreadsheet module's downloads.
csv_response = spreadsheet.csv_response
xlsx_response = spreadsheet.xlsx_response


def headers() -> list[str]:
    return [
        _("Tracking code"),
        _("Title"),
        _("Category"),
        _("Area"),
        _("Workroom"),
        _("Comes from"),
        _("Status"),
        _("Lead agency"),
        _("Co-handling agencies"),
        _("Submitted"),
        _("Accept by"),
        _("Answer by"),
        _("Deadline"),
        _("Class of the answer"),
        _("Citizens"),
        _("Phones"),
    ]


def _deadline_label(state: str | None) -> str:
    labels = {
        "on_time": _("On time"),
        "due_soon": _("Due within 3 working days"),
        "overdue": _("Overdue"),
    }
    return labels.get(state or "", "")


def row(
    s: Suggestion,
    *,
    hide_confidential: bool,
    today: dt.date,
    calendar: WorkingCalendar,
    local_date: Any,
) -> list[Any]:
    """One suggestion as export cells (text, and dates or None for the dates); citizens
    of a confidential suggestion are left out when ``hide_confidential`` (agencies'
    exports)."""
    co = [link.agency.name for link in s.agencies if link.role == "co"]
    if hide_confidential and s.confidential:
        citizens = phones = _("Confidential")
    else:
        citizens = "; ".join(
            c.name or (_("Removed") if c.purged_at else _("Anonymous")) for c in s.citizens
        )
        phones = "; ".join(mask_phone(c.phone) for c in s.citizens if c.phone)
    return [
        s.tracking_code,
        s.title,
        s.category.label,
        s.area.name,
        s.workroom.name if s.workroom else "",
        str(SOURCES.get(s.source, s.source)),
        s.status_label,
        s.lead_agency.name if s.lead_agency else "",
        "; ".join(co),
        local_date(s.created_at),
        s.accept_due,
        s.reply_due,
        _deadline_label(deadline_state(s, today, calendar)),
        str(REPLY_CLASSES.get(s.reply_class, "")) if s.reply_class else "",
        citizens,
        phones,
    ]


def suggestions_in_order(stmt: sa.Select) -> Iterator[Suggestion]:
    """Every suggestion ``stmt`` selects, in its order, loaded in batches with what a
    row needs."""
    ids = list(db.session.scalars(stmt.with_only_columns(Suggestion.id)))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        loaded = {
            s.id: s
            for s in db.session.scalars(
                sa.select(Suggestion)
                .where(Suggestion.id.in_(chunk))
                .options(
                    selectinload(Suggestion.category),
                    selectinload(Suggestion.area),
                    selectinload(Suggestion.workroom),
                    selectinload(Suggestion.lead_agency),
                    selectinload(Suggestion.citizens),
                    selectinload(Suggestion.agencies).selectinload(SuggestionAgency.agency),
                )
            )
        }
        for suggestion_id in chunk:
            yield loaded[suggestion_id]
