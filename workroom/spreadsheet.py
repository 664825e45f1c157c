"""Reading and writing spreadsheets safely: .xlsx workbooks and CSV files.

Reading turns an upload into rows of text. A workbook is parsed by openpyxl through
defusedxml (XML bombs are refused) and only when it does not expand enormously;
formulas come back as their text, never evaluated. A CSV file's encoding is found from
its byte order mark, else UTF-8, else GB18030 (what Chinese Excel saves).

Writing turns a header and rows of typed values (text, numbers, dates, datetimes,
None) into a CSV file Excel opens in Chinese (UTF-8 with a byte order mark) or a
workbook with number and date cells. No text a spreadsheet would run becomes a
formula: in CSV it gets a leading apostrophe, in .xlsx it is a plain string cell.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from typing import Any

import openpyxl
from flask import Response, stream_with_context
from flask_babel import lazy_gettext as _l
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from workroom.clock import to_local
from workroom.errors import DomainError

# A text starting with one of these is a formula (or the start of one) to a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

_OLD_EXCEL = b"\xd0\xcf\x11\xe0"
# A workbook expanding beyond this multiple of the size limit is refused (a zip bomb).
_XLSX_EXPANSION = 40
# The delimiter is guessed from the first non-empty lines: a title or two and the header.
_SNIFF_LINES = 6
# Column widths of a written workbook, in characters.
_MIN_WIDTH, _MAX_WIDTH = 8, 50


# Reading


@dataclass(frozen=True)
class Row:
    """A row with something in it: its number as the spreadsheet shows it (the first
    row is 1; empty rows are skipped, not renumbered) and its cells as text."""

    line: int
    cells: list[str]


def size_label(size: int) -> str:
    """A size in bytes as KB or MB, for limits shown to people."""
    if size >= 1024 * 1024:
        return f"{round(size / 1024 / 1024, 1):g} MB"
    return f"{round(size / 1024, 1):g} KB"


def too_large(max_bytes: int) -> DomainError:
    return DomainError(
        _l(
            "The file is larger than %(size)s. Split it into smaller files.",
            size=size_label(max_bytes),
        ),
        "file",
    )


def too_many_rows(max_rows: int) -> DomainError:
    """The error for a file holding more than ``max_rows`` rows of data; the reader's
    caller counts them, since only it knows which rows are data (not a title, a header
    or a row of serial numbers only)."""
    return DomainError(
        _l("The file has more than %(n)s rows. Split it into smaller files.", n=max_rows),
        "file",
    )


def _unreadable_workbook() -> DomainError:
    return DomainError(_l("This file cannot be read as an Excel workbook (.xlsx)."), "file")


def read_rows(data: bytes, *, max_bytes: int) -> Iterator[Row]:
    """The rows of an .xlsx workbook (its active sheet) or of a CSV file, as text.

    Cells keep their text: formulas verbatim, whole numbers without ".0", dates in ISO
    form; a row may end at its last non-empty cell. Rows are read as the iterator is
    consumed. Raises DomainError (field ``file``)
    when the file is empty, larger than ``max_bytes`` (or a workbook expanding far
    beyond it), an old .xls file, not a readable workbook (an XML bomb included), or a
    text file in no known encoding or with a stray quotation mark.
    """
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    if not data.strip():
        raise DomainError(_l("The file is empty."), "file")
    if data.startswith(b"PK"):
        records = _xlsx_records(data, max_bytes)
    elif data.startswith(_OLD_EXCEL):
        raise DomainError(
            _l("This is an old Excel file (.xls). Save it as .xlsx or as CSV, then upload it."),
            "file",
        )
    else:
        records = _csv_records(decode_text(data))
    return (
        Row(line=line, cells=cells)
        for line, cells in enumerate(records, start=1)
        if any(cell.strip() for cell in cells)
    )


def cell_text(value: Any) -> str:
    """A workbook cell as text: formulas verbatim, whole numbers without ".0", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        # A date cell comes back as a datetime at midnight.
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    # Array and data-table formulas carry their text in ``text``.
    text = getattr(value, "text", None)
    return str(text if isinstance(text, str) else value)


def _xlsx_records(data: bytes, max_bytes: int) -> Iterator[list[str]]:
    if not openpyxl.DEFUSEDXML:
        # Without it an uploaded workbook could expand entities without bound.
        raise RuntimeError(
            "openpyxl must parse uploads with defusedxml: install it, leave OPENPYXL_DEFUSEDXML unset"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise _unreadable_workbook() from None
    if expanded > max_bytes * _XLSX_EXPANSION:
        raise too_large(max_bytes)
    try:
        # data_only=False: a formula comes back as its text, never as a computed value.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl and defusedxml raise many kinds of error for a bad file
        raise _unreadable_workbook() from None
    return _sheet_rows(workbook)


def _sheet_rows(workbook: Any) -> Iterator[list[str]]:
    try:
        sheet = workbook.active
        # The size a sheet declares may be wrong (some programs write "A1"): read it all.
        sheet.reset_dimensions()
        # Rows missing from the sheet's XML come back empty, so positions are row numbers.
        for row in sheet.iter_rows(values_only=True):
            yield [cell_text(value) for value in row]
    except Exception:
        raise _unreadable_workbook() from None
    finally:
        workbook.close()


def decode_text(data: bytes) -> str:
    """Decode a text file: by its BOM (UTF-8, UTF-16), else UTF-8, else GB18030.

    Chinese Excel saves CSV in GB18030 (a superset of GBK and GB2312). Raises
    DomainError when neither encoding fits.
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                break
    else:
        for encoding in ("utf-8", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise DomainError(
        _l("The file's characters cannot be read. Save it as .xlsx or as CSV (UTF-8)."), "file"
    )


def _delimiter(text: str) -> str:
    """Comma, tab or semicolon: whichever the first lines use most (the Chinese comma
    never separates cells)."""
    lines = [line for line in text.splitlines()[:20] if line.strip()][:_SNIFF_LINES]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_records(text: str) -> Iterator[list[str]]:
    text = text.replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        rows = list(reader)
    except csv.Error:
        raise DomainError(
            _l('The file cannot be read as CSV: look for a stray quotation mark (").'),
            "file",
        ) from None
    return iter(rows)


# Writing


def _wall_clock(moment: dt.datetime) -> dt.datetime:
    """A datetime as a spreadsheet holds it, without a zone: an aware one in local time,
    a naive one as given (the caller has made it local)."""
    return to_local(moment).replace(tzinfo=None) if moment.tzinfo is not None else moment


def neutralise(value: Any) -> str:
    """A value as a CSV cell: text a spreadsheet would read as a formula gets a leading
    "'"; numbers (negative ones too) and dates are written as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if isinstance(value, dt.datetime):
        return _wall_clock(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (bool, int, float, Decimal, dt.date)):
        return str(value)
    return neutralise(str(value))


def csv_chunks(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The rows (the header first) as CSV text, one row a chunk: a byte order mark so
    that Excel reads it as UTF-8, CRLF line ends, every cell through ``neutralise``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for cells in rows:
        writer.writerow([neutralise(cell) for cell in cells])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if value is None or _is_number(value) or isinstance(value, bool):
        return WriteOnlyCell(sheet, value=value)
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=_wall_clock(value))
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    # Text, however it starts, is a string cell: never a formula. Characters XML cannot
    # hold are left out rather than failing the whole file.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
    cell.data_type = "s"
    return cell


def _width(value: Any) -> int:
    """About how many characters wide a value shows (a Chinese character counts two)."""
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return len(DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return len(DATE_FORMAT)
    lines = str(value).splitlines() or [""]
    return max(
        sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines
    )


def xlsx_bytes(rows: Iterable[Sequence[Any]], title: str) -> bytes:
    """A workbook of one sheet named ``title`` holding the rows, the header first.

    Numbers are number cells, dates and datetimes date cells (yyyy-mm-dd, yyyy-mm-dd
    hh:mm; an aware datetime in local time), None an empty cell, and anything else a
    string cell, never a formula. Each column is as wide as its header or its first
    value needs, so that dates do not show as ####.
    """
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    rows = iter(rows)
    # A write-only sheet takes its column widths before its first row.
    first = [list(cells) for cells in (next(rows, None), next(rows, None)) if cells is not None]
    for index in range(max((len(cells) for cells in first), default=0)):
        widest = max(_width(cells[index]) if index < len(cells) else 0 for cells in first)
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(
            max(widest + 2, _MIN_WIDTH), _MAX_WIDTH
        )
    for cells in chain(first, rows):
        sheet.append([_xlsx_cell(sheet, value) for value in cells])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _attachment(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A download of the rows as CSV (see ``csv_chunks``), streamed as they come."""
    return _attachment(Response(stream_with_context(csv_chunks(rows)), mimetype=CSV_TYPE), filename)


def xlsx_response(rows: Iterable[Sequence[Any]], filename: str, title: str) -> Response:
    """A download of the rows as a workbook (see ``xlsx_bytes``)."""
    return _attachment(Response(xlsx_bytes(rows, title), mimetype=XLSX_TYPE), filename)
