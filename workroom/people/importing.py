"""Import the deputies roster from an .xlsx or .csv file: read, check, then apply.

A file is read into rows of text by ``workroom.spreadsheet`` (formulas are never
evaluated: they stay text), every row is checked against the database, and the rows
are applied all together or not at all. Between the upload and the confirmation the
rows wait in a file in the instance folder that belongs to the uploader and expires.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import selectinload

from workroom import spreadsheet
from workroom.audit.log import record
from workroom.db import db
from workroom.errors import DomainError, NotFound
from workroom.forms import clean_text
from workroom.people import directory
from workroom.people.models import Deputy, ProfessionalGroup
from workroom.places.models import Workroom
from workroom.privacy import normalize_phone

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_ROWS = 5000


def import_limits() -> tuple[int, int]:
    """The largest roster accepted: bytes and rows (IMPORT_MAX_BYTES, IMPORT_MAX_ROWS)."""
    config = current_app.config
    return (
        int(config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)),
        int(config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)),
    )


DEFAULT_PREVIEW_MINUTES = 30

# The columns a roster may have, with the labels the deputy form uses.
COLUMNS: dict[str, Any] = {
    "name": lazy_pgettext("person", "Name"),
    "level": _l("Level"),
    "term": _l("Term"),
    "constituency": _l("Constituency"),
    "sector": _l("Occupation or sector"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "groups": _l("Professional groups"),
    "workrooms": _l("Workrooms"),
    "monthly_cap": _l("Most reception days a month"),
}

# Header names accepted for each column; the first is the one shown in the guide.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "代表姓名", "name"),
    "level": ("层级", "代表层级", "级别", "level"),
    "term": ("届次", "届别", "term"),
    "constituency": ("选区", "选举单位", "constituency"),
    "sector": ("职业/界别", "职业", "界别", "职业或界别", "工作单位及职务", "sector", "occupation"),
    "phone": ("手机", "电话", "手机号", "手机号码", "联系电话", "phone", "mobile"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "email", "e-mail"),
    "groups": ("专业小组", "代表专业小组", "groups", "professional groups"),
    "workrooms": ("进站工作室", "工作室", "联络站", "代表工作室", "workrooms"),
    "monthly_cap": ("每月上限", "每月接待上限", "每月最多接待天数", "monthly_cap", "monthly cap"),
}

# Columns a roster often has that the import leaves aside.
IGNORED_HEADERS = ("序号", "编号", "备注", "no", "no.", "#")

LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    "national": ("全国", "国家", "national"),
    "provincial": ("省", "自治区", "直辖市", "provincial", "province"),
    "municipal": ("市", "设区的市", "地级市", "自治州", "municipal", "city"),
    "county": (
        "县",
        "区",
        "县区",
        "区县",
        "县(区)",
        "区(县)",
        "县(市、区)",
        "县级市",
        "自治县",
        "旗",
        "county",
        "district",
    ),
    "township": (
        "乡",
        "镇",
        "乡镇",
        "街道",
        "乡镇(街道)",
        "乡(镇)",
        "民族乡",
        "township",
        "street",
    ),
}
LEVEL_CHOICES = "全国、省、市、县（区）、乡镇（街道）"
LEVEL_CODES = tuple(LEVEL_NAMES)

_LIST_SEPARATORS = re.compile(r"[、,;，；\n]+")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_TITLE_ROWS = 5
# Spaces that align a two-character name with three-character ones (王  芳).
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])[\s\u3000]+(?=[\u4e00-\u9fff])")
_NEUTRAL: dict[str, Any] = {
    "name": "-",
    "level": "county",
    "term": "",
    "constituency": "",
    "sector": "",
    "phone": "",
    "email": "",
    "monthly_cap": None,
}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").replace("\ufeff", "").lower()
    text = re.sub(r"\((必填|required)\)", "", text)
    return re.sub(r"[\s*]", "", text)


_HEADER_KEYS = {_key(alias): column for column, names in HEADERS.items() for alias in names}
_HEADER_KEYS.update({_key(column): column for column in HEADERS})
_IGNORED_KEYS = {_key(header) for header in IGNORED_HEADERS}
_LEVEL_KEYS = {_key(alias): code for code, names in LEVEL_NAMES.items() for alias in names}
_LEVEL_KEYS.update({"county/district": "county", "township/street": "township"})


def level_code(text: str) -> str | None:
    """The level code for a label such as 县（区）, 省级人大代表 or county; None if unknown."""
    key = _key(text)
    for suffix in ("人大代表", "代表", "人大", "级"):
        key = key.removesuffix(suffix)
    return _LEVEL_KEYS.get(key)


def column_guide() -> list[dict[str, Any]]:
    """What each column holds, for the upload page."""
    hints = {
        "name": _l("Required."),
        "level": _l(
            "One of %(choices)s, or its code below. Required for a new deputy.",
            choices=LEVEL_CHOICES,
        ),
        "phone": _l("A mobile number or a landline with its area code."),
        "email": _l("Optional."),
        "groups": _l("Codes or names of professional groups, separated by 、 or ;"),
        "workrooms": _l("Address names or names of workrooms, separated by 、 or ;"),
        "monthly_cap": _l("A number from 1 to 31; empty for no limit."),
    }
    return [
        {
            "key": column,
            "label": COLUMNS[column],
            "headers": " / ".join(HEADERS[column][:2] + (column,)),
            "hint": hints.get(column, _l("Optional.")),
            "codes": LEVEL_CODES if column == "level" else (),
        }
        for column in COLUMNS
    ]


# Reading a file


@dataclass
class SheetRow:
    """One non-empty row: its number as the spreadsheet shows it, and its cells by column."""

    line: int
    values: dict[str, str]


@dataclass
class Roster:
    columns: list[str]
    rows: list[SheetRow]


def read_roster(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int = DEFAULT_MAX_ROWS
) -> Roster:
    """Read an .xlsx workbook (its first sheet) or a CSV file into rows of text.

    The header row is the first row naming a name column (a title above it is left
    aside); empty rows are skipped; cells keep their text, formulas included. Raises
    DomainError (field ``file``) when the file cannot be read (see
    ``spreadsheet.read_rows``), has unknown or repeated headers, no name column, no
    rows, or more than ``max_rows`` rows of deputies.
    """
    return _table(spreadsheet.read_rows(data, max_bytes=max_bytes), max_rows)


def _is_header(cells: list[str]) -> bool:
    return any(_HEADER_KEYS.get(_key(cell)) == "name" for cell in cells)


def _table(lines: Iterable[spreadsheet.Row], max_rows: int) -> Roster:
    columns: list[str | None] | None = None
    above: list[list[str]] = []
    rows: list[SheetRow] = []
    for line in lines:
        cells = [clean_text(c) for c in line.cells]
        if not any(cells):
            continue
        if columns is None:
            # A sheet often carries a title (and a date) above its header row.
            if not _is_header(cells) and len(above) < _TITLE_ROWS:
                above.append(cells)
                continue
            columns = _columns(cells if _is_header(cells) else above[0])
            continue
        values = {
            column: cells[index] if index < len(cells) else ""
            for index, column in enumerate(columns)
            if column is not None
        }
        if not any(values.values()):
            continue
        if len(rows) >= max_rows:
            raise spreadsheet.too_many_rows(max_rows)
        if "name" in values:
            values["name"] = _CJK_GAP.sub("", values["name"])
        rows.append(SheetRow(line=line.line, values=values))
    if columns is None and above:
        _columns(above[0])
    if columns is None or not rows:
        raise DomainError(_l("The file has no deputies below the header row."), "file")
    return Roster(columns=[c for c in columns if c is not None], rows=rows)


def _columns(headers: list[str]) -> list[str | None]:
    columns: list[str | None] = []
    unknown: list[str] = []
    for header in headers:
        if not header or _key(header) in _IGNORED_KEYS:
            columns.append(None)
            continue
        column = _HEADER_KEYS.get(_key(header))
        if column is None:
            unknown.append(header)
        elif column in columns:
            raise DomainError(
                _l("The column %(name)s appears twice in the header row.", name=header), "file"
            )
        columns.append(column)
    if unknown:
        raise DomainError(
            _l(
                "Unknown columns: %(unknown)s. The header row may use: %(accepted)s.",
                unknown="、".join(unknown),
                accepted="、".join(f"{names[0]} ({column})" for column, names in HEADERS.items()),
            ),
            "file",
        )
    if "name" not in columns:
        raise DomainError(
            _l("The header row needs a name column (姓名 or name)."),
            "file",
        )
    return columns


# Checking rows against the database


@dataclass
class RowCheck:
    """What one row would do: create, update, unchanged, or error (with its errors)."""

    line: int
    values: dict[str, str]
    action: str = "create"
    deputy: Deputy | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    groups: list[ProfessionalGroup] = field(default_factory=list)
    workrooms: list[Workroom] = field(default_factory=list)
    errors: list[tuple[str, Any]] = field(default_factory=list)
    # The columns an update changes.
    changes: list[str] = field(default_factory=list)


@dataclass
class RosterCheck:
    rows: list[RowCheck]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self.count("create")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def with_errors(self) -> int:
        return self.count("error")

    @property
    def ok(self) -> bool:
        return self.with_errors == 0


def _index(objects: Iterable[Any], code: str) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    by_code: dict[str, Any] = {}
    by_name: dict[str, list[Any]] = {}
    for obj in objects:
        by_code[getattr(obj, code)] = obj
        by_name.setdefault(obj.name, []).append(obj)
    return by_code, by_name


class _Lookup:
    """Workrooms, groups and deputies named in the file, loaded once."""

    def __init__(self, rows: list[SheetRow]):
        self.rooms = _index(db.session.scalars(sa.select(Workroom)), "slug")
        self.groups = _index(db.session.scalars(sa.select(ProfessionalGroup)), "code")
        names = sorted({row.values.get("name", "") for row in rows} - {""})
        self.deputies: dict[str, list[Deputy]] = {}
        for start in range(0, len(names), 500):
            stmt = (
                sa.select(Deputy)
                .where(Deputy.name.in_(names[start : start + 500]))
                .options(selectinload(Deputy.workrooms), selectinload(Deputy.groups))
                .order_by(Deputy.id)
            )
            for deputy in db.session.scalars(stmt):
                self.deputies.setdefault(deputy.name, []).append(deputy)

    @staticmethod
    def find(index: tuple[dict[str, Any], dict[str, list[Any]]], text: str) -> list[Any]:
        """By code (or slug) first, then by name; several when the name is shared."""
        by_code, by_name = index
        found = by_code.get(text.lower())
        return [found] if found is not None else by_name.get(text, [])


def _split(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text or "") if part.strip()]


def _phone_key(text: str) -> str | None:
    try:
        return normalize_phone(text) if text else ""
    except DomainError:
        return None


def _match(row: RowCheck, lookup: _Lookup, name: str, phone: str | None) -> None:
    """Find the existing deputy the row describes: same name and phone, or the only
    deputy of that name when the row or that deputy has no phone."""
    same_name = lookup.deputies.get(name, [])
    if phone is None or not same_name:
        return
    if phone:
        candidates = [d for d in same_name if d.phone == phone] or [
            d for d in same_name if not d.phone
        ]
    else:
        candidates = same_name
    if len(candidates) > 1:
        row.errors.append(
            (
                "name",
                _l(
                    "Several deputies are called %(name)s: add the phone number to tell "
                    "them apart.",
                    name=name,
                ),
            )
        )
    elif candidates:
        row.deputy = candidates[0]


def _choose(row: RowCheck, column: str, index: Any, current: list[Any]) -> list[Any]:
    """The workrooms or groups a cell names; errors for unknown, ambiguous or inactive ones."""
    chosen: list[Any] = []
    for text in _split(row.values.get(column, "")):
        found = _Lookup.find(index, text)
        if not found:
            message = (
                _l("There is no workroom %(name)s.", name=text)
                if column == "workrooms"
                else _l("There is no professional group %(name)s.", name=text)
            )
            row.errors.append((column, message))
        elif len(found) > 1:
            row.errors.append(
                (
                    column,
                    _l("Several are called %(name)s: use the code or address name.", name=text),
                )
            )
        elif not found[0].active and found[0] not in current:
            row.errors.append((column, _l("%(name)s is inactive.", name=found[0].name)))
        elif found[0] not in chosen:
            chosen.append(found[0])
    return chosen


def _check_row(sheet_row: SheetRow, columns: list[str], lookup: _Lookup) -> RowCheck:
    row = RowCheck(line=sheet_row.line, values=sheet_row.values)
    values = sheet_row.values
    name = values.get("name", "")
    phone = values.get("phone", "") if "phone" in columns else ""
    _match(row, lookup, name, _phone_key(phone))
    deputy = row.deputy

    inputs: dict[str, Any] = {
        key: getattr(deputy, key) if deputy is not None else _NEUTRAL[key]
        for key in ("level", "term", "constituency", "sector", "phone", "email", "monthly_cap")
    }
    if deputy is None:
        inputs["level"] = ""
    inputs["name"] = name
    for key in ("term", "constituency", "sector", "phone", "email"):
        if key in columns:
            inputs[key] = values.get(key, "")
    invalid: set[str] = set()
    level_text = values.get("level", "")
    if level_text or deputy is None:
        code = level_code(level_text) if level_text else None
        if code is None:
            row.errors.append(("level", _l("Use one of %(choices)s.", choices=LEVEL_CHOICES)))
            invalid.add("level")
        inputs["level"] = code
    if "monthly_cap" in columns:
        cap_text = values.get("monthly_cap", "")
        try:
            inputs["monthly_cap"] = int(cap_text) if cap_text else None
        except ValueError:
            row.errors.append(
                (
                    "monthly_cap",
                    _l("Enter a number from 1 to 31, or leave it empty for no limit."),
                )
            )
            invalid.add("monthly_cap")

    # Every remaining rule is the deputy form's; collect all of a row's errors.
    for key in invalid:
        inputs[key] = _NEUTRAL[key]
    for _attempt in range(len(inputs)):
        try:
            row.fields = directory.deputy_fields(**inputs)
            break
        except DomainError as error:
            key = error.field if error.field in inputs else "name"
            row.errors.append((key, error.message))
            inputs[key] = _NEUTRAL[key]

    current_groups = list(deputy.groups) if deputy is not None else []
    current_rooms = list(deputy.workrooms) if deputy is not None else []
    row.groups = (
        _choose(row, "groups", lookup.groups, current_groups)
        if "groups" in columns
        else current_groups
    )
    row.workrooms = (
        _choose(row, "workrooms", lookup.rooms, current_rooms)
        if "workrooms" in columns
        else current_rooms
    )

    if row.errors:
        # Placeholders stood in for the wrong cells; they are no row's values.
        row.action, row.fields = "error", {}
    elif deputy is None:
        row.action = "create"
    else:
        row.changes = [key for key, value in row.fields.items() if getattr(deputy, key) != value]
        for key, chosen, current in (
            ("groups", row.groups, current_groups),
            ("workrooms", row.workrooms, current_rooms),
        ):
            if {o.id for o in chosen} != {o.id for o in current}:
                row.changes.append(key)
        row.action = "update" if row.changes else "unchanged"
    return row


def check_roster(roster: Roster) -> RosterCheck:
    """Check every row against the database without changing anything.

    A row is matched to an existing deputy by name and phone (or by name alone when
    that is unambiguous) and would update it; otherwise it would create one. A column
    missing from the file keeps each deputy's current value.
    """
    lookup = _Lookup(roster.rows)
    checks = [_check_row(row, roster.columns, lookup) for row in roster.rows]
    seen: dict[Any, int] = {}
    for row in checks:
        keys = [("row", row.values.get("name", ""), row.fields.get("phone", ""))]
        if row.deputy is not None:
            keys.append(("deputy", row.deputy.id, ""))
        earlier = next((seen[k] for k in keys if k in seen), None)
        if earlier is not None:
            row.errors.append(("name", _l("This deputy is already on row %(line)s.", line=earlier)))
            row.action = "error"
        for key in keys:
            seen.setdefault(key, row.line)
    return RosterCheck(rows=checks)


def import_roster(roster: Roster, *, source: str = "") -> RosterCheck:
    """Check the roster again and, when every row is valid, create and update deputies.

    Changes are added to the current transaction with one audit event for the import
    (and one per deputy); the caller commits when ``ok``, and must roll back otherwise.
    Nothing is changed when any row has an error.
    """
    check = check_roster(roster)
    if not check.ok:
        return check
    for row in check.rows:
        try:
            if row.action == "create":
                row.deputy = directory.create_deputy(
                    **row.fields, groups=row.groups, workrooms=row.workrooms
                )
            elif row.action == "update" and row.deputy is not None:
                directory.update_deputy(
                    row.deputy,
                    **row.fields,
                    groups=row.groups,
                    workrooms=row.workrooms,
                    active=row.deputy.active,
                )
        except DomainError as error:
            row.errors.append((error.field if error.field in COLUMNS else "name", error.message))
            row.action = "error"
            return check
    record(
        "deputy.import",
        object_type="deputy",
        summary=_l(
            "%(source)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged",
            source=source,
            created=check.created,
            updated=check.updated,
            unchanged=check.unchanged,
        ),
    )
    return check


# Uploads waiting for confirmation


@dataclass
class PendingImport:
    token: str
    user_id: int
    filename: str
    expires_at: dt.datetime
    roster: Roster


def save_pending(
    folder: str | os.PathLike[str],
    roster: Roster,
    *,
    user_id: int,
    filename: str,
    now: dt.datetime,
    minutes: int = DEFAULT_PREVIEW_MINUTES,
) -> str:
    """Keep the rows for the uploader until confirmed or expired; return the token.

    Expired uploads in the folder are removed on the way.
    """
    os.makedirs(folder, exist_ok=True)
    _remove_expired(folder, now, minutes)
    token = secrets.token_urlsafe(24)
    content = {
        "user_id": user_id,
        "filename": filename[-200:],
        "expires_at": (now + dt.timedelta(minutes=minutes)).isoformat(),
        "columns": roster.columns,
        "rows": [[row.line, row.values] for row in roster.rows],
    }
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".import-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(content, handle, ensure_ascii=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, _pending_path(folder, token))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return token


def _pending_path(folder: str | os.PathLike[str], token: str) -> str:
    # Named by the token's hash: finding the file compares nothing an attacker can
    # time against the token, and a listing of the folder gives no token away.
    return os.path.join(folder, f"{hashlib.sha256(token.encode()).hexdigest()}.json")


def _gone() -> NotFound:
    return NotFound(_l("This import has expired or does not exist. Upload the file again."))


def load_pending(
    folder: str | os.PathLike[str], token: str, *, user_id: int, now: dt.datetime
) -> PendingImport:
    """The upload behind ``token``. Raises NotFound when it does not exist, has
    expired, or belongs to someone else."""
    if not _TOKEN.match(token or ""):
        raise _gone()
    try:
        with open(_pending_path(folder, token), encoding="utf-8") as handle:
            content = json.load(handle)
        expires_at = dt.datetime.fromisoformat(content["expires_at"])
        roster = Roster(
            columns=list(content["columns"]),
            rows=[SheetRow(line=line, values=values) for line, values in content["rows"]],
        )
    except (OSError, ValueError, KeyError, TypeError):
        raise _gone() from None
    if content.get("user_id") != user_id:
        raise _gone()
    if expires_at <= now:
        discard_pending(folder, token)
        raise _gone()
    return PendingImport(
        token=token,
        user_id=user_id,
        filename=content.get("filename", ""),
        expires_at=expires_at,
        roster=roster,
    )


@contextlib.contextmanager
def claim_pending(folder: str | os.PathLike[str], token: str) -> Iterator[None]:
    """Hold an upload while it is imported, so that a second confirmation (a double
    click) raises NotFound instead of importing twice. The upload is put back when the
    block ends, unless the block discarded it."""
    path = _pending_path(folder, token)
    held = f"{path}.held"
    try:
        os.rename(path, held)
    except OSError:
        raise _gone() from None
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.replace(held, path)


def discard_pending(folder: str | os.PathLike[str], token: str) -> None:
    if _TOKEN.match(token or ""):
        path = _pending_path(folder, token)
        for name in (path, f"{path}.held"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)


def _remove_expired(folder: str | os.PathLike[str], now: dt.datetime, minutes: int) -> None:
    cutoff = now - dt.timedelta(minutes=minutes)
    for path in Path(folder).iterdir():
        with contextlib.suppress(OSError):
            changed = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)
            if path.is_file() and changed < cutoff:
                path.unlink()


def pending_folder() -> str:
    return os.path.join(current_app.instance_path, "imports")


def describe_errors(check: RosterCheck) -> list[str]:
    """One line per error: the row, the column and the message."""
    return [
        f"{row.line}: {COLUMNS.get(column, column)}: {message}"
        for row in check.rows
        for column, message in row.errors
    ]
