"""CSV and Excel exports of the suggestion list: masked phones, no formulas, the
list's filters and scope, and an audit record."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import sqlalchemy as sa

from tests import test_suggestion_views as base
from tests.conftest import login
from tests.test_suggestion_views import raise_suggestion
from workroom.audit.models import AuditEvent
from workroom.clock import local_date

# Shared fixtures: the world of accounts and places, pages in English.
world = base.world
english = base.english

DANGEROUS = ['=HYPERLINK("http://x")', "+86 1", "-2+3", "@SUM(A1)"]


def _dangerous(db, world):
    return raise_suggestion(
        db,
        world,
        title=DANGEROUS[0],
        citizens=[
            {"visit": None, "name": DANGEROUS[1], "phone": "13800138000"},
            {"visit": None, "name": DANGEROUS[2], "phone": "13900139000"},
            {"visit": None, "name": DANGEROUS[3], "phone": None},
        ],
    )


def test_csv_export_masks_phones_and_neutralises_formulas(client, db, world):
    s = _dangerous(db, world)
    other = raise_suggestion(db, world, room="room_b")
    login(client, world["liaison"])
    response = client.get("/staff/suggestions?format=csv", buffered=True)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, *body = rows
    assert header[0] == "Tracking code" and len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["Tracking code"] == s.tracking_code
    assert row["Title"] == "'" + DANGEROUS[0]
    assert row["Citizens"] == "'" + "; ".join(DANGEROUS[1:])
    assert row["Phones"] == "138****8000; 139****9000"
    assert row["Submitted"] == local_date(s.created_at).isoformat()
    assert row["Accept by"] == (s.accept_due.isoformat() if s.accept_due else "")
    assert "13800138000" not in text and other.tracking_code not in text
    for cells in rows:
        for cell in cells:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "suggestion.export"))
    assert audit is not None and "导出建议 1 条，格式 csv" in audit.summary


def test_xlsx_export_has_no_formula_cells(client, db, world):
    s = _dangerous(db, world)
    login(client, world["admin"])
    response = client.get("/staff/suggestions?format=xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = [cell.value for cell in cells]
    assert s.tracking_code in values
    assert DANGEROUS[0] in values
    assert "138****8000; 139****9000" in values
    assert not any("13800138000" in str(v) for v in values)


def test_xlsx_export_has_date_cells(client, db, world):
    s = raise_suggestion(db, world)
    assert s.accept_due is not None and s.reply_due is not None
    login(client, world["admin"])
    response = client.get("/staff/suggestions?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header, body = [list(row) for row in sheet.iter_rows()]
    cells = {h.value: cell for h, cell in zip(header, body, strict=True)}
    expected = {
        "Submitted": local_date(s.created_at),
        "Accept by": s.accept_due,
        "Answer by": s.reply_due,
    }
    for column, day in expected.items():
        cell = cells[column]
        assert cell.is_date and cell.number_format == "yyyy-mm-dd", column
        assert cell.value == dt.datetime.combine(day, dt.time()), column
    # Excel shows #### for a date in a column too narrow for it.
    letter = cells["Submitted"].column_letter
    assert sheet.column_dimensions[letter].width >= len("2026-03-02")
    assert cells["Tracking code"].value == s.tracking_code
    assert cells["Tracking code"].data_type == "s"


def test_export_follows_the_filters(client, db, world):
    air = raise_suggestion(db, world, title="空气")
    roads = raise_suggestion(db, world, code="urban-roads", title="道路")
    login(client, world["admin"])
    text = client.get("/staff/suggestions?format=csv&status=triage", buffered=True).get_data(
        as_text=True
    )
    assert roads.tracking_code in text and air.tracking_code not in text


def test_staff_exports_show_confidential_citizens_masked(client, db, world):
    raise_suggestion(
        db,
        world,
        confidential=True,
        citizens=[{"visit": None, "name": "赵秘密", "phone": "13912345678"}],
    )
    login(client, world["admin"])
    text = client.get("/staff/suggestions?format=csv", buffered=True).get_data(as_text=True)
    assert "赵秘密" in text and "139****5678" in text and "13912345678" not in text


def test_agency_exports_hide_confidential_citizens(client, db, world):
    raise_suggestion(
        db,
        world,
        confidential=True,
        citizens=[{"visit": None, "name": "赵秘密", "phone": "13912345678"}],
    )
    login(client, world["agency1"])
    response = client.get("/agency?format=xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    values = [cell.value for row in workbook.active.iter_rows() for cell in row]
    assert "Confidential" in values
    assert not any("赵秘密" in str(v) or "5678" in str(v) for v in values)
