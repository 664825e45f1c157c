"""The Simplified Chinese catalogs: complete, consistent with the source strings and
with Flask-Security's messages, and in use on the sign-in page."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import flask_security
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.conftest import csrf_from

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "workroom" / "translations"
CHINESE = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES"
CATALOGS = sorted(CHINESE.glob("*.po"))
FLASK_SECURITY_TEMPLATE = (
    Path(flask_security.__file__).parent / "translations" / "flask_security.pot"
)
# The keywords of `make extract-messages` (-k _l -k lazy_gettext).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# Flask-Security's "%(length) c" is no valid placeholder; its translation names no number.
PLACEHOLDER_EXCEPTIONS = {"Value entered must be less than %(length) characters": Counter()}

NAMED = re.compile(r"%\((\w+)\)")
POSITIONAL = re.compile(r"%(?![(%])[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]")


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _key(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def _placeholders(text: str) -> Counter:
    text = text.replace("%%", "")
    found = Counter(f"%({name})" for name in set(NAMED.findall(text)))
    found["positional"] = len(POSITIONAL.findall(text))
    return +found


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """Compile the .mo files `make translations` would build when they are missing or stale."""
    for po in CATALOGS:
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalog = _read(po)
        partial = mo.with_name(f"{mo.stem}.partial.mo")
        with partial.open("wb") as f:
            write_mo(f, catalog)
        # Another test run may be reading the catalog at this moment.
        os.replace(partial, mo)


def test_there_are_catalogs_for_both_domains() -> None:
    assert {p.name for p in CATALOGS} >= {"messages.po", "flask_security.po"}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.name)
def test_no_entry_is_empty_or_fuzzy(path: Path) -> None:
    catalog = _read(path)
    # A fuzzy header makes `pybabel compile` skip the whole catalog.
    assert not catalog.fuzzy, f"{path.name}: the header is marked fuzzy"
    empty = [_key(m.id) for m in catalog if m.id and not all(_strings(m))]
    fuzzy = [_key(m.id) for m in catalog if m.id and m.fuzzy]
    assert not empty, f"{path.name}: {len(empty)} untranslated: {empty}"
    assert not fuzzy, f"{path.name}: {len(fuzzy)} fuzzy: {fuzzy}"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.name)
def test_placeholders_match_the_source(path: Path) -> None:
    catalog = _read(path)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        key = _key(message.id)
        expected = PLACEHOLDER_EXCEPTIONS.get(key, _placeholders(key))
        for text in _strings(message):
            if text and _placeholders(text) != expected:
                wrong.append(f"{key!r} -> {text!r}")
    problems = [f"{_key(m.id)!r}: {e}" for m, errors in catalog.check() for e in errors]
    assert not wrong, f"{path.name}: placeholders differ: {wrong}"
    assert not problems, f"{path.name}: pybabel compile would fail: {problems}"


def test_every_flask_security_message_is_translated() -> None:
    ours = {_key(m.id): _strings(m) for m in _read(CHINESE / "flask_security.po") if m.id}
    theirs = [_key(m.id) for m in _read(FLASK_SECURITY_TEMPLATE) if m.id]
    missing = [msgid for msgid in theirs if not all(ours.get(msgid, [""]))]
    assert theirs
    assert not missing, f"{len(missing)} Flask-Security messages lack a translation: {missing}"


def test_configured_security_messages_are_translated(app) -> None:
    ours = {_key(m.id): _strings(m) for m in _read(CHINESE / "flask_security.po") if m.id}
    configured = {
        key: value[0]
        for key, value in app.config.items()
        if key.startswith("SECURITY_MSG_") and isinstance(value, tuple)
    }
    missing = [
        f"{key}: {text!r}" for key, text in configured.items() if not all(ours.get(text, [""]))
    ]
    assert not missing, f"messages set in the config lack a translation: {missing}"


def test_messages_po_holds_every_source_string() -> None:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    extracted = {
        _key(message)
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS
        )
    }
    catalog = {_key(m.id) for m in _read(CHINESE / "messages.po") if m.id}
    template = {_key(m.id) for m in _read(TRANSLATIONS / "messages.pot") if m.id}
    assert extracted, "nothing extracted: check babel.cfg"
    missing = sorted(extracted - catalog)
    stale_template = sorted(extracted - template)
    assert not missing, f"run `make extract-messages` and translate: {missing}"
    assert not stale_template, f"messages.pot is out of date: {stale_template}"


def _sign_in_page(client, language: str):
    return client.get("/login", headers={"Accept-Language": language})


def _wrong_password(client, make_user, language: str):
    user = make_user("viewer")
    token = csrf_from(_sign_in_page(client, language).get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": user.username, "password": "not-the-password", "csrf_token": token},
        headers={"Accept-Language": language},
    )


def test_sign_in_page_in_chinese(client, make_user) -> None:
    page = _sign_in_page(client, "zh-CN").get_data(as_text=True)
    for text in ("登录", "用户名", "密码", "记住我", "代表工作室接待系统"):
        assert text in page
    assert "Sign in" not in page and "Username" not in page
    answer = _wrong_password(client, make_user, "zh-CN")
    assert answer.status_code == 200
    assert "用户名或密码错误。" in answer.get_data(as_text=True)


def test_sign_in_page_in_english(app, client, make_user) -> None:
    page = _sign_in_page(client, "en").get_data(as_text=True)
    for text in ("Sign in", "Username", "Password", "Remember Me"):
        assert text in page
    assert "登录" not in page
    answer = _wrong_password(client, make_user, "en").get_data(as_text=True)
    assert app.config["SECURITY_MSG_GENERIC_AUTHN_FAILED"][0] in answer
    assert "用户名或密码错误" not in answer
