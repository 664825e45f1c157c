"""Reading uploads and writing downloads: encodings, formulas kept as text, refused
files explained in the reader's language, number and date cells, no formula written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from flask_babel import force_locale

from workroom import spreadsheet
from workroom.errors import DomainError
from workroom.spreadsheet import Row, csv_chunks, neutralise, read_rows, xlsx_bytes

LIMIT = 1024 * 1024
UNREADABLE = {
    "en": "This file cannot be read as an Excel workbook (.xlsx).",
    "zh_Hans_CN": "无法将此文件读取为 Excel 工作簿（.xlsx）。",
}
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n'
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>\n'
)


def _rows(data: bytes) -> list[tuple[int, list[str]]]:
    return [(row.line, row.cells) for row in read_rows(data, max_bytes=LIMIT)]


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for cells in rows:
        workbook.active.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replace(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook ``data`` with its part ``name`` replaced by ``content``."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info, content if info.filename == name else source.read(info))
    return buffer.getvalue()


def _refusal(data: bytes, *, max_bytes: int = LIMIT) -> DomainError:
    with pytest.raises(DomainError) as caught:
        list(read_rows(data, max_bytes=max_bytes))
    assert caught.value.field == "file"
    return caught.value


def _messages(error: DomainError) -> dict[str, str]:
    """The error's message in English and in Chinese."""
    shown = {}
    for locale in ("en", "zh_Hans_CN"):
        with force_locale(locale):
            shown[locale] = str(error.message)
    return shown


# Reading


@pytest.mark.parametrize(
    "data",
    [
        "姓名,职业\r\n龚䶮,教师，退休\r\n".encode(),
        "\ufeff姓名,职业\r\n龚䶮,教师，退休\r\n".encode(),
        "姓名,职业\r\n龚䶮,教师，退休\r\n".encode("gb18030"),
        "姓名\t职业\r\n龚䶮\t教师，退休\r\n".encode("utf-16"),
        "姓名;职业\n龚䶮;教师，退休\n".encode(),
    ],
    ids=["utf-8", "utf-8 bom", "gb18030", "utf-16 tabs", "semicolons"],
)
def test_text_files_in_every_encoding_excel_saves(data):
    assert _rows(data) == [(1, ["姓名", "职业"]), (2, ["龚䶮", "教师，退休"])]


def test_a_gb18030_file_is_not_taken_for_utf8():
    data = "代表,电话\n王芳,13800138000\n".encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert _rows(data)[1] == (2, ["王芳", "13800138000"])


def test_formulas_are_kept_as_their_text():
    csv_data = '姓名,备注\n甲,"=HYPERLINK(""http://x"")"\n乙,@SUM(A1)\n'.encode()
    assert [cells[1] for _line, cells in _rows(csv_data)[1:]] == [
        '=HYPERLINK("http://x")',
        "@SUM(A1)",
    ]
    workbook = _workbook([["a", "b", "sum"], [1, 2, "=A2+B2"], ["+86 138", "-5 apples", None]])
    assert _rows(workbook) == [
        (1, ["a", "b", "sum"]),
        (2, ["1", "2", "=A2+B2"]),
        (3, ["+86 138", "-5 apples"]),
    ]


def test_workbook_cells_read_as_the_text_they_show():
    data = _workbook(
        [
            ["手机", "上限", "比例", "日期", "时刻", "是否"],
            [13800138000, 2.0, 0.5, dt.date(2026, 3, 2), dt.datetime(2026, 3, 2, 9, 30), True],
        ]
    )
    assert _rows(data)[1] == (
        2,
        ["13800138000", "2", "0.5", "2026-03-02", "2026-03-02 09:30:00", "TRUE"],
    )


def test_empty_rows_are_skipped_and_rows_keep_their_numbers():
    data = _workbook([[], ["标题"], [], [None, None], ["姓名"], ["甲"]])
    assert _rows(data) == [(2, ["标题"]), (5, ["姓名"]), (6, ["甲"])]
    assert _rows(b"a\n\n ,  \nb\n") == [(1, ["a"]), (4, ["b"])]
    assert isinstance(next(read_rows(b"a\n", max_bytes=LIMIT)), Row)


def test_a_workbook_declaring_a_wrong_size_is_read_whole():
    data = _workbook([["姓名"], ["甲"], ["乙"]])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:A3"' in sheet
    lying = _replace(data, "xl/worksheets/sheet1.xml", sheet.replace(b'ref="A1:A3"', b'ref="A1"'))
    assert _rows(lying) == [(1, ["姓名"]), (2, ["甲"]), (3, ["乙"])]


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml"])
def test_an_xml_bomb_is_refused(app, part):
    data = _workbook([["姓名"], ["甲"]])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(part)
    root = xml[xml.index(b"?>") + 2 :] if xml.startswith(b"<?xml") else xml
    # Read, the cell 甲 would grow to a thousand "lol"s (ten thousand more per level).
    root = root.replace("甲".encode(), b"&lol4;")
    bomb = _replace(data, part, BILLION_LAUGHS + root.lstrip())
    assert len(bomb) < 10_000
    with app.app_context():
        assert _messages(_refusal(bomb)) == UNREADABLE


def test_no_workbook_is_read_without_defusedxml(monkeypatch):
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(RuntimeError, match="defusedxml"):
        list(read_rows(_workbook([["姓名"], ["甲"]]), max_bytes=LIMIT))


@pytest.mark.parametrize(
    "parts",
    [
        {"readme.txt": b"hello"},
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"},
    ],
    ids=["any zip", "a word document"],
)
def test_a_zip_that_is_not_a_workbook_is_refused(app, parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    with app.app_context():
        assert _messages(_refusal(buffer.getvalue())) == UNREADABLE
        assert _messages(_refusal(b"PK\x03\x04 broken")) == UNREADABLE


def test_file_limits_and_kinds_are_explained(app):
    with app.app_context():
        assert _messages(_refusal(b"a,b\n" * 600, max_bytes=2048)) == {
            "en": "The file is larger than 2 KB. Split it into smaller files.",
            "zh_Hans_CN": "文件超过 2 KB，请拆分成较小的文件。",
        }
        assert _messages(_refusal(b" \r\n ")) == {
            "en": "The file is empty.",
            "zh_Hans_CN": "文件是空的。",
        }
        assert "(.xls)" in _messages(_refusal(b"\xd0\xcf\x11\xe0" + b"\0" * 100))["en"]
        assert "UTF-8" in _messages(_refusal(b"\xff\xfe\x00\xd8"))["en"]
        # A stray quotation mark runs on to the end: a cell larger than CSV allows.
        stray = b'a,"b\n' + b"c,d\n" * 50_000
        assert "quotation mark" in _messages(_refusal(stray))["en"]
        assert _messages(spreadsheet.too_many_rows(5000)) == {
            "en": "The file has more than 5000 rows. Split it into smaller files.",
            "zh_Hans_CN": "文件超过 5000 行，请拆分成较小的文件。",
        }


def test_a_workbook_expanding_enormously_is_refused(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"x" * 5_000_000)
    data = buffer.getvalue()
    with app.app_context():
        assert "larger than" in _messages(_refusal(data, max_bytes=len(data) * 2))["en"]


def test_size_labels():
    assert spreadsheet.size_label(200) == "0.2 KB"
    assert spreadsheet.size_label(2 * 1024 * 1024) == "2 MB"


# Writing

HEADER = ["代表", "次数", "金额", "日期", "时刻", "备注"]
DANGEROUS = ["=1+1", "+8613800138000", "-5 apples", "@x", "\tcmd", "\r=2"]


def _written() -> list[list[object]]:
    return [
        HEADER,
        ["王芳", 3, Decimal("12.50"), dt.date(2026, 3, 2), dt.datetime(2026, 3, 2, 9, 30), None],
        ["龚䶮", -5, -1.5, None, None, "河道有异味"],
        *[[text, 0, 0.0, None, None, text] for text in DANGEROUS],
    ]


def test_neutralise():
    assert [neutralise(v) for v in DANGEROUS] == ["'" + v for v in DANGEROUS]
    assert neutralise("河道") == "河道" and neutralise(None) == "" and neutralise(5) == "5"
    assert neutralise("\tcmd") == "'\tcmd"
    # A negative number is a number; only text is neutralised.
    assert neutralise(-5) == "-5" and neutralise(Decimal("-1.50")) == "-1.50"
    assert neutralise("-5") == "'-5"
    assert neutralise(dt.date(2026, 3, 2)) == "2026-03-02"
    assert neutralise(dt.datetime(2026, 3, 2, 9, 30)) == "2026-03-02 09:30:00"


def test_xlsx_has_number_date_and_text_cells_and_no_formula():
    data = xlsx_bytes(_written(), "意见建议")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml

    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.active
    assert sheet.title == "意见建议"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    header, first, second, *dangerous = list(sheet.iter_rows())
    assert [cell.value for cell in header] == HEADER
    assert all(cell.data_type == "s" for cell in header)

    name, count, amount, day, moment, empty = first
    assert (name.value, name.data_type) == ("王芳", "s")
    assert (count.value, count.data_type) == (3, "n")
    assert (amount.value, amount.data_type) == (12.5, "n")
    assert day.is_date and day.value == dt.datetime(2026, 3, 2)
    assert day.number_format == "yyyy-mm-dd"
    assert moment.is_date and moment.value == dt.datetime(2026, 3, 2, 9, 30)
    assert moment.number_format == "yyyy-mm-dd hh:mm"
    assert empty.value is None

    # A negative number stays a number.
    assert (second[1].value, second[1].data_type) == (-5, "n")
    assert (second[2].value, second[2].data_type) == (-1.5, "n")
    assert second[5].value == "河道有异味"

    for text, row in zip(DANGEROUS, dangerous, strict=True):
        # XML reads a carriage return back as a line feed.
        text = text.replace("\r", "\n")
        assert (row[0].value, row[0].data_type) == (text, "s")
        assert (row[5].value, row[5].data_type) == (text, "s")


def test_xlsx_columns_fit_their_header_and_dates():
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(_written(), "x"))).active
    widths = {column: sheet.column_dimensions[column].width for column in "ABCDEF"}
    assert widths["D"] >= len("2026-03-02") and widths["E"] >= len("2026-03-02 09:30")
    # Two Chinese characters are as wide as four Latin ones.
    assert widths["A"] >= 4


def test_xlsx_leaves_out_characters_xml_cannot_hold_and_shows_aware_times_locally(app):
    moment = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    with app.app_context():
        data = xlsx_bytes([["备注", "时刻"], ["响铃\x07字符", moment]], "x")
    second = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows())[1]
    assert second[0].value == "响铃字符"
    assert second[1].value == dt.datetime(2026, 3, 2, 9, 30)


def test_csv_opens_in_excel_as_utf8_and_round_trips_chinese():
    text = "".join(csv_chunks(_written()))
    assert text.startswith("\ufeff")
    assert text.split("\n", 1)[0].endswith("\r")
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")

    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert rows[0] == HEADER
    assert rows[1] == ["王芳", "3", "12.50", "2026-03-02", "2026-03-02 09:30:00", ""]
    assert rows[2] == ["龚䶮", "-5", "-1.5", "", "", "河道有异味"]
    for text_value, row in zip(DANGEROUS, rows[3:], strict=True):
        assert row[0] == row[5] == "'" + text_value
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell

    # What is written reads back the same, by the same module.
    back = [row.cells for row in read_rows(data, max_bytes=LIMIT)]
    assert back[0] == HEADER and back[2][0] == "龚䶮" and back[2][5] == "河道有异味"


def test_downloads_are_attachments(app):
    with app.test_request_context():
        response = spreadsheet.csv_response([["代表"], ["王芳"]], "a.csv")
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"] == 'attachment; filename="a.csv"'
        assert response.get_data(as_text=True) == "\ufeff代表\r\n王芳\r\n"
        response = spreadsheet.xlsx_response([["代表"], ["王芳"]], "a.xlsx", "Suggestions")
        assert response.mimetype.endswith("spreadsheetml.sheet")
        assert response.headers["Content-Disposition"] == 'attachment; filename="a.xlsx"'
        sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
        assert sheet.title == "Suggestions" and sheet["A2"].value == "王芳"
