"""CSV and Excel exports of suggestion lists.

Phone numbers are masked, and no cell can become a formula: in CSV a text starting
with = + - @ (or a tab or carriage return) gets a leading apostrophe, in .xlsx every
cell is written as a string.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from flask import Response, stream_with_context
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy.orm import selectinload

from workroom.db import db
from workroom.privacy import mask_phone
from workroom.suggestions.deadlines import deadline_state
from workroom.suggestions.models import REPLY_CLASSES, SOURCES, Suggestion, SuggestionAgency
from workroom.workdays.calendar import WorkingCalendar

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: Any) -> str:
    """A CSV cell's text: a value a spreadsheet would read as a formula gets a "'"."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


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


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def row(
    s: Suggestion,
    *,
    hide_confidential: bool,
    today: dt.date,
    calendar: WorkingCalendar,
    local_date: Any,
) -> list[str]:
    """One suggestion as export cells; citizens of a confidential suggestion are left
    out when ``hide_confidential`` (agencies' exports)."""
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
        _iso(local_date(s.created_at)),
        _iso(s.accept_due),
        _iso(s.reply_due),
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


def csv_response(rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """Stream the rows as UTF-8 CSV with a byte order mark (Excel reads it as UTF-8)."""

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        for cells in rows:
            writer.writerow([neutralise(cell) for cell in cells])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = Response(stream_with_context(generate()), mimetype=CSV_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_bytes(rows: Iterable[Sequence[Any]], title: str) -> bytes:
    """A workbook of one sheet whose every cell is a string, never a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for cells in rows:
        line = []
        for value in cells:
            cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
            cell.data_type = "s"
            line.append(cell)
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(rows: Iterable[Sequence[Any]], filename: str, title: str) -> Response:
    response = Response(xlsx_bytes(rows, title), mimetype=XLSX_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
