"""The roster import: .xlsx and .csv files, preview, confirm, all rows or none."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook

from tests.conftest import csrf_from, login
from workroom.audit.models import AuditEvent
from workroom.cli import import_deputies_command
from workroom.errors import DomainError, NotFound
from workroom.people import importing
from workroom.people.importing import level_code, read_roster
from workroom.people.models import Deputy, ProfessionalGroup

EN = {"Accept-Language": "en"}
UPLOAD = "/staff/deputies/import"
HEADER_ZH = [
    "姓名",
    "层级",
    "届次",
    "选区",
    "职业/界别",
    "手机",
    "邮箱",
    "专业小组",
    "进站工作室",
    "每月上限",
]


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(client, data: bytes, filename: str, headers=None):
    token = csrf_from(client.get(UPLOAD).get_data(as_text=True))
    return client.post(
        UPLOAD,
        data={"file": (io.BytesIO(data), filename), "csrf_token": token},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def _preview(client, data: bytes, filename: str, headers=None):
    """Upload and follow to the preview; returns (preview url, page text)."""
    response = _upload(client, data, filename, headers)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    url = response.headers["Location"]
    page = client.get(url, headers=headers or {})
    assert page.status_code == 200
    return url, page.get_data(as_text=True)


def _confirm(client, url: str, headers=None, token: str | None = None):
    if token is None:
        token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(f"{url}/confirm", data={"csrf_token": token}, headers=headers or {})


def _deputy(db, name: str) -> Deputy | None:
    return db.session.scalar(sa.select(Deputy).where(Deputy.name == name))


def _count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Deputy))


@pytest.fixture
def room(make_workroom):
    return make_workroom(name="下摄司街道代表工作室", slug="xiasheshi")


@pytest.fixture
def group(db):
    group = ProfessionalGroup(code="environment", name="环保代表专业小组")
    db.session.add(group)
    db.session.commit()
    return group


def test_good_xlsx_is_previewed_then_imported(client, db, login_as, room, group, make_deputy):
    teacher = make_deputy(name="张老师", phone="13900139000", sector="教师", level="county")
    login_as("admin")
    data = _xlsx(
        [
            HEADER_ZH,
            [
                "李建国",
                "县（区）",
                "第十八届",
                "下摄司选区",
                "=1+1",
                13800138000,
                "li@xiangtan.gov.cn",
                "environment",
                "xiasheshi",
                2,
            ],
            [],
            [
                "王芳",
                "乡镇（街道）",
                None,
                None,
                "@SUM(A1)",
                "+86 138 0013 8001",
                None,
                "环保代表专业小组；",
                "下摄司街道代表工作室",
                None,
            ],
            ["张老师", "县", None, None, "校长", 13900139000.0, None, None, "xiasheshi", None],
        ]
    )
    url, page = _preview(client, data, "代表名册.xlsx")
    assert "李建国" in page and "王芳" in page and "代表名册.xlsx" in page
    assert "138****8000" in page and "13800138000" not in page
    assert _deputy(db, "李建国") is None

    english = client.get(url, headers=EN).get_data(as_text=True)
    assert "New deputies: 2" in english
    assert "Deputies to update: 1" in english
    assert "Rows with problems: 0" in english
    # Row numbers are the spreadsheet's: the empty row 3 is skipped, not renumbered.
    assert re.search(r"<td>4</td>\s*<td><span class=\"tag tag--ok\">New</span></td>", english)

    response = _confirm(client, url, EN)
    assert response.status_code == 200
    assert "Import finished" in response.get_data(as_text=True)

    li = _deputy(db, "李建国")
    assert li.level == "county" and li.term == "第十八届" and li.constituency == "下摄司选区"
    assert li.phone == "13800138000" and li.email == "li@xiangtan.gov.cn"
    assert li.sector == "=1+1"
    assert li.monthly_cap == 2
    assert [w.slug for w in li.workrooms] == ["xiasheshi"]
    assert [g.code for g in li.groups] == ["environment"]
    wang = _deputy(db, "王芳")
    assert wang.level == "township" and wang.phone == "13800138001"
    assert wang.sector == "@SUM(A1)"
    assert [g.code for g in wang.groups] == ["environment"]
    assert [w.slug for w in wang.workrooms] == ["xiasheshi"]
    db.session.refresh(teacher)
    assert teacher.sector == "校长" and [w.slug for w in teacher.workrooms] == ["xiasheshi"]
    assert _count(db) == 3

    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("deputy.import") == 1
    assert actions.count("deputy.create") == 2 and actions.count("deputy.update") == 1
    summary = db.session.scalar(
        sa.select(AuditEvent.summary).where(AuditEvent.action == "deputy.import")
    )
    assert "新建 2 人，更新 1 人" in summary

    # The upload is gone once imported: confirming again changes nothing.
    assert client.get(url).status_code == 404
    assert _confirm(client, url, token=csrf_from(english)).status_code == 404
    assert _count(db) == 3


def test_gb18030_csv_from_chinese_excel(client, db, login_as, room):
    login_as("admin")
    text = '姓名,层级,手机,进站工作室,职业/界别\r\n龚䶮,市级,138-0013-8002,xiasheshi,"=HYPERLINK(""x"")"\r\n'
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    url, page = _preview(client, data, "roster.csv")
    assert "龚䶮" in page
    assert _confirm(client, url).status_code == 200
    deputy = _deputy(db, "龚䶮")
    assert deputy.level == "municipal" and deputy.phone == "13800138002"
    assert deputy.sector == '=HYPERLINK("x")'
    assert [w.slug for w in deputy.workrooms] == ["xiasheshi"]


def test_utf8_bom_csv_with_english_headers_and_semicolons(client, db, login_as, room):
    login_as("admin")
    data = "name;level;phone;workrooms;monthly_cap\nLi Lei;county;0731-58581234;xiasheshi;4\n"
    url, _page = _preview(client, ("\ufeff" + data).encode("utf-8"), "roster.csv")
    assert _confirm(client, url).status_code == 200
    deputy = _deputy(db, "Li Lei")
    assert deputy.phone == "073158581234" and deputy.monthly_cap == 4


@pytest.mark.parametrize(
    "data",
    [
        "姓名\t电话\r\n王五\t13800138000\r\n".encode("utf-16"),
        "\ufeff姓名,电话\n王五,13800138000\n".encode("utf-8"),
        "姓名,电话\n王五,13800138000\n".encode("gb18030"),
    ],
)
def test_text_encodings_and_delimiters_are_detected(data):
    roster = read_roster(data)
    assert roster.columns == ["name", "phone"]
    assert [(r.line, r.values) for r in roster.rows] == [
        (2, {"name": "王五", "phone": "13800138000"})
    ]


def test_chinese_comma_in_a_cell_is_not_a_delimiter():
    roster = read_roster("姓名,职业/界别\n王五,教师，退休\n".encode())
    assert roster.rows[0].values == {"name": "王五", "sector": "教师，退休"}


def test_bad_rows_are_listed_and_nothing_is_committed(client, db, login_as, room):
    login_as("admin")
    data = (
        "姓名,层级,手机,进站工作室\n"
        "好代表,县,13800138003,xiasheshi\n"
        "坏电话,县,12345,xiasheshi\n"
        "无工作室,省长,13800138004,nowhere\n"
    ).encode("gb18030")
    url, page = _preview(client, data, "roster.csv")
    assert "请填写手机号码或带区号的固定电话" in page
    assert 'action="' + url + '/confirm"' not in page

    english = client.get(url, headers=EN).get_data(as_text=True)
    assert "Rows with problems: 2" in english
    assert "Phone: Enter a mobile number or a landline with its area code" in english
    assert "Workrooms: There is no workroom nowhere." in english
    assert "Level: Use one of" in english
    assert re.search(r"<td>4</td>", english)
    assert "Import 3 rows" not in english

    response = _confirm(client, url, EN, token=csrf_from(english))
    assert response.status_code == 400
    assert "Nothing has been saved" in response.get_data(as_text=True)
    assert _count(db) == 0
    assert not db.session.scalars(sa.select(AuditEvent.action)).all().count("deputy.import")


def test_every_problem_of_a_row_is_reported(db, room):
    roster = read_roster(
        "姓名,手机,邮箱,每月上限,专业小组\n张三,123,not-an-email,40,nothing\n".encode()
    )
    (row,) = importing.check_roster(roster).rows
    assert row.action == "error"
    assert [column for column, _message in row.errors] == [
        "level",
        "monthly_cap",
        "phone",
        "email",
        "groups",
    ]


def test_confirm_validates_again(client, db, login_as, room):
    login_as("admin")
    data = "姓名,层级,进站工作室\n甲代表,县,xiasheshi\n乙代表,县,\n".encode()
    url, page = _preview(client, data, "roster.csv")
    assert "Import 2 rows" in client.get(url, headers=EN).get_data(as_text=True)
    room.active = False
    db.session.commit()
    response = _confirm(client, url, EN)
    assert response.status_code == 400
    assert "下摄司街道代表工作室 is inactive." in response.get_data(as_text=True)
    assert _count(db) == 0


def test_only_staff_who_manage_deputies_may_import(app, client, db, login_as, make_user):
    login_as("admin")
    url, _page = _preview(client, "姓名,层级\n甲代表,县\n".encode(), "roster.csv")

    viewer = app.test_client()
    login(viewer, make_user("viewer"))
    assert viewer.get(UPLOAD).status_code == 403
    assert viewer.get(url).status_code == 404
    token = csrf_from(viewer.get("/staff").get_data(as_text=True))
    assert _confirm(viewer, url, token=token).status_code == 404

    other_admin = app.test_client()
    login(other_admin, make_user("admin"))
    assert other_admin.get(url).status_code == 404
    token = csrf_from(other_admin.get(UPLOAD).get_data(as_text=True))
    assert _confirm(other_admin, url, token=token).status_code == 404
    assert _count(db) == 0
    assert client.get(url).status_code == 200


def test_forms_need_their_csrf_token(client, db, login_as, room):
    login_as("admin")
    response = client.post(
        UPLOAD,
        data={"file": (io.BytesIO("姓名\n甲\n".encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    url, _page = _preview(client, "姓名,层级\n甲代表,县\n".encode(), "roster.csv")
    assert client.post(f"{url}/confirm").status_code == 400
    assert _count(db) == 0


def test_file_level_problems_are_explained(client, app, db, login_as):
    login_as("admin")
    app.config["IMPORT_MAX_BYTES"] = 200
    app.config["IMPORT_MAX_ROWS"] = 2
    cases = [
        ("姓名,层级\n" + "甲代表,县\n" * 30, "roster.csv", "The file is larger than 0.2 KB."),
        ("姓名,层级\n甲,县\n乙,县\n丙,县\n", "roster.csv", "The file has more than 2 rows."),
        ("姓名,生日\n甲,1970\n", "roster.csv", "Unknown columns: 生日."),
        ("层级\n县\n", "roster.csv", "The header row needs a name column"),
        ("姓名,层级\n", "roster.csv", "The file has no deputies below the header row."),
        ("姓名\n甲\n", "roster.txt", "Upload an .xlsx or .csv file."),
    ]
    for text, filename, message in cases:
        response = _upload(client, text.encode(), filename, EN)
        assert response.status_code == 400, message
        page = response.get_data(as_text=True)
        assert message in page, page
    assert "姓名 (name)" in _upload(client, "姓名,生日\n甲,1970\n".encode(), "r.csv", EN).get_data(
        as_text=True
    )
    app.config["IMPORT_MAX_BYTES"] = 4096
    response = _upload(client, b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xlsx", EN)
    assert "old Excel file (.xls)" in response.get_data(as_text=True)
    response = _upload(client, b"PK\x03\x04 broken", "broken.xlsx", EN)
    assert "cannot be read as an Excel workbook" in response.get_data(as_text=True)
    assert _count(db) == 0


def test_upload_page_explains_the_columns(client, login_as):
    login_as("admin")
    page = client.get(UPLOAD, headers=EN).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and 'accept=".xlsx,.csv' in page
    assert '<label class="field__label" for="file">' in page
    assert "进站工作室" in page and "每月上限" in page


def test_rows_match_existing_deputies(db, make_deputy):
    make_deputy(name="同名", phone="13800138005")
    make_deputy(name="同名", phone="13800138006")
    only = make_deputy(name="独一", phone="")
    roster = read_roster(
        "姓名,手机,层级\n同名,13800138006,市\n同名,,县\n独一,13800138007,\n新人,,县\n新人,,市\n".encode()
    )
    with force_locale("en"):
        rows = importing.check_roster(roster).rows
    assert rows[0].action == "update" and rows[0].deputy.phone == "13800138006"
    assert rows[2].action == "update" and rows[2].deputy is only
    assert rows[3].action == "create"
    with force_locale("en"):
        assert rows[1].action == "error" and "Several deputies" in str(rows[1].errors[0][1])
        assert rows[4].action == "error" and "already on row 5" in str(rows[4].errors[0][1])


def test_an_unchanged_row_is_left_alone(db, room):
    roster = read_roster("姓名,层级,进站工作室\n甲代表,县,xiasheshi\n".encode())
    assert importing.import_roster(roster, source="a.csv").created == 1
    db.session.commit()
    check = importing.import_roster(roster, source="a.csv")
    assert check.ok and check.unchanged == 1 and check.updated == 0


def test_html_in_a_name_is_stored_verbatim_and_shown_escaped(client, db, login_as):
    login_as("admin")
    name = "<b>甲</b>"
    url, page = _preview(client, f"姓名,层级\n{name},县\n".encode(), "roster.csv")
    assert name not in page and "&lt;b&gt;甲&lt;/b&gt;" in page
    assert _confirm(client, url).status_code == 200
    assert _deputy(db, name) is not None


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("全国", "national"),
        ("省级人大代表", "provincial"),
        ("市", "municipal"),
        ("县（区）", "county"),
        ("区", "county"),
        ("乡镇(街道)", "township"),
        ("街道", "township"),
        ("County / district", "county"),
        ("province-ish", None),
    ],
)
def test_level_labels(label, code):
    assert level_code(label) == code


def test_pending_upload_belongs_to_its_uploader_and_expires(tmp_path):
    roster = read_roster("姓名\n甲\n".encode())
    now = dt.datetime(2026, 3, 2, 8, 0)
    token = importing.save_pending(tmp_path, roster, user_id=7, filename="a.csv", now=now)
    pending = importing.load_pending(tmp_path, token, user_id=7, now=now)
    assert pending.roster == roster and pending.filename == "a.csv"
    with pytest.raises(NotFound):
        importing.load_pending(tmp_path, token, user_id=8, now=now)
    with pytest.raises(NotFound):
        importing.load_pending(tmp_path, "../../etc/passwd", user_id=7, now=now)
    with pytest.raises(NotFound):
        importing.load_pending(tmp_path, token, user_id=7, now=now + dt.timedelta(minutes=31))
    assert not list(tmp_path.glob("*.json"))


def test_an_xlsx_that_expands_enormously_is_refused(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"<" + b"x" * 20_000_000)
    data = buffer.getvalue()
    with pytest.raises(DomainError) as caught:
        read_roster(data, max_bytes=len(data))
    with app.app_context(), force_locale("en"):
        assert "larger than" in str(caught.value.message)


def test_cli_imports_a_file(app, db, room, tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(
        _xlsx([["姓名", "层级", "手机", "进站工作室"], ["甲代表", "县", 13800138008, "xiasheshi"]])
    )
    runner = app.test_cli_runner()
    result = runner.invoke(import_deputies_command, [str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run, nothing saved: 1 created" in result.output
    assert _count(db) == 0
    result = runner.invoke(import_deputies_command, [str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 unchanged" in result.output
    deputy = _deputy(db, "甲代表")
    assert deputy.phone == "13800138008" and [w.slug for w in deputy.workrooms] == ["xiasheshi"]


def test_cli_refuses_a_file_with_bad_rows(app, db, room, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("姓名,层级,手机\n甲代表,县,13800138009\n乙代表,县,123\n".encode("gb18030"))
    with force_locale("en"):
        result = app.test_cli_runner().invoke(import_deputies_command, [str(path)])
    assert result.exit_code != 0
    assert "Row 3: Phone: Enter a mobile number" in result.output
    assert "nothing was imported" in result.output
    assert _count(db) == 0


def test_a_title_row_and_serial_numbers_are_left_aside(db, make_deputy):
    make_deputy(name="王芳", phone="", level="county")
    data = _xlsx(
        [
            ["下摄司街道人大代表名册"],
            [],
            ["序号", "姓 名", "层级（必填）", "手机", "备注"],
            [1, "王  芳", "县", "13800138011", "换了号码"],
            [2, "李　强", "乡镇", None, None],
        ]
    )
    roster = read_roster(data)
    assert roster.columns == ["name", "level", "phone"]
    assert [(r.line, r.values["name"]) for r in roster.rows] == [(4, "王芳"), (5, "李强")]
    first, second = importing.check_roster(roster).rows
    assert first.action == "update" and first.changes == ["phone"]
    assert second.action == "create" and second.fields["level"] == "township"


def test_a_second_confirmation_finds_nothing_while_the_first_runs(tmp_path):
    roster = read_roster("姓名\n甲\n".encode())
    now = dt.datetime(2026, 3, 2, 8, 0)
    token = importing.save_pending(tmp_path, roster, user_id=7, filename="a.csv", now=now)
    with importing.claim_pending(tmp_path, token):
        with pytest.raises(NotFound), importing.claim_pending(tmp_path, token):
            pass
        with pytest.raises(NotFound):
            importing.load_pending(tmp_path, token, user_id=7, now=now)
    # Not discarded (the import was refused): the upload is back for another try.
    assert importing.load_pending(tmp_path, token, user_id=7, now=now).roster == roster
    with importing.claim_pending(tmp_path, token):
        importing.discard_pending(tmp_path, token)
    assert not list(tmp_path.iterdir())
