"""Every staff page the demo reaches reads in Chinese.

Each demo account follows the links of its own pages, breadth first, as a Chinese
reader (``Accept-Language: zh-CN``), and every page's visible words and the words
read aloud (``title``, ``aria-label``, ``placeholder``, ``alt``) are searched for
English. What may stay is named: code (``<code>``, ``translate="no"``, or a part in
another ``lang``), codes such as ``SMS_1001`` or ``ICS``, units and proper names.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import IsolatedClient, login
from workroom.auth.models import User
from workroom.categories.models import Category
from workroom.db import db as database
from workroom.demo import seed_demo
from workroom.people.models import Agency, ProfessionalGroup
from workroom.places.models import Workroom

PASSWORD = "demo-password-2026"
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
# Words the Chinese UI keeps: file formats and units, product names, and the
# language's own name in the language menu. The data's codes (workroom slugs,
# category, agency and group codes, account names) are added from the database.
ALLOWED = {
    "csv", "xlsx", "xls", "ics", "pdf", "jpeg", "jpg", "png", "heic", "webp", "svg",
    "kb", "mb", "gb", "sms", "email", "url", "api", "ip", "id", "qr", "otp",
    "excel", "icalendar", "english",
}  # fmt: skip
# How many pages each account reads, at least and at most.
ACCOUNTS = {"admin": 250, "liaison": 120, "deputy": 60, "agency1": 20}
MAX_PAGES = 400
# Paths a crawl must not follow: they act, sign out or serve files.
SKIPPED = re.compile(
    r"^/(logout|static/|kiosk/|media/)|/(export|download|feed|qr)\b|\.(ics|csv|xlsx|png|svg)$"
)
SKIPPED_TAGS = {"script", "style", "code", "pre", "kbd", "samp", "template"}
SPOKEN = ("title", "aria-label", "placeholder", "alt")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'-]*")
# Addresses, paths and query strings (``format=csv``) are code.
ADDRESS = re.compile(r"\S+@\S+|https?://\S+|/\S*|\S*=\S*")


class _Words(HTMLParser):
    """The page's words outside code, with the links it offers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self.links: list[str] = []
        self._open: list[tuple[str, bool]] = []

    @property
    def _hidden(self) -> bool:
        return any(hidden for _, hidden in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang")
        hidden = (
            tag in SKIPPED_TAGS
            or values.get("translate") == "no"
            or (lang is not None and not lang.lower().startswith("zh"))
        )
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if not (self._hidden or hidden):
            for name in SPOKEN:
                if values.get(name):
                    self.words.append(values[name] or "")
            if tag == "input" and values.get("type") in ("submit", "button"):
                self.words.append(values.get("value") or "")
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source", "wbr"):
            self._open.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.words.append(data)


def english_words(text: str, codes: frozenset[str] = frozenset()) -> list[str]:
    """The English words in ``text``; codes, units and names on the list are not."""
    found = []
    for word in WORD.findall(ADDRESS.sub(" ", text)):
        if any(c.isdigit() for c in word) or "_" in word or word in codes:
            continue  # a code: SMS_1001, A3, agency1, a workroom's slug
        if len(word) >= 2 and word.isupper():
            continue  # an abbreviation or a receipt code: ICS, KGBQQPQP
        if len(word) == 1 or word.lower() in ALLOWED:
            continue  # a deputy's letter A–D; a format or unit
        found.append(word)
    return found


def data_codes() -> frozenset[str]:
    """The codes the data itself holds: they are names, not words of the UI."""
    columns = (Workroom.slug, Category.code, Agency.code, ProfessionalGroup.code, User.username)
    return frozenset(
        code for column in columns for code in database.session.scalars(sa.select(column)) if code
    )


def _crawl(client, start: str, limit: int) -> tuple[int, dict[str, list[str]]]:
    codes = data_codes()
    seen = {start}
    queue = deque([start])
    per_path: dict[str, int] = {}
    pages = 0
    offenders: dict[str, list[str]] = {}
    while queue and pages < limit:
        url = queue.popleft()
        response = client.get(url, headers=CHINESE)
        assert response.status_code < 500, url
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        pages += 1
        parser = _Words()
        parser.feed(response.get_data(as_text=True))
        words = [w for text in parser.words for w in english_words(text, codes)]
        if words:
            offenders[url] = sorted(set(words))
        for href in parser.links:
            link, _ = urldefrag(href)
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if SKIPPED.search(parts.path) or "format=" in parts.query or link in seen:
                continue
            # A few variants of each listing (filters, pages) are enough.
            per_path[parts.path] = per_path.get(parts.path, 0) + 1
            if parts.query and per_path[parts.path] > 3:
                continue
            seen.add(link)
            queue.append(link)
    return pages, offenders


@pytest.fixture
def demo(app, db):
    # The demo's reception days, visits and suggestions are built around this moment.
    with time_machine.travel("2026-12-02 02:00:00+00:00", tick=True):
        seed_demo(password=PASSWORD)
        database.session.commit()
        yield


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_staff_pages_show_no_english_words(app, demo, username) -> None:
    client = IsolatedClient(app, app.response_class)
    login(client, username, PASSWORD)
    start = "/agency" if username.startswith("agency") else "/staff"
    pages, offenders = _crawl(client, start, MAX_PAGES)
    report = "\n".join(f"{url}: {' '.join(words)}" for url, words in sorted(offenders.items()))
    assert not offenders, f"English words on {len(offenders)} of {pages} pages:\n{report}"
    assert pages >= ACCOUNTS[username], f"{username} reached only {pages} pages"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("已发送 3 条短信（SMS_1001）", []),
        ("导出 CSV 或 XLSX", []),
        ("代表 A、B 和 C", []),
        ("matched: 生态环境 → 岳塘区", ["matched"]),
        ("No SMS gateway is configured", ["No", "gateway", "is", "configured"]),
        ("发给 zhang@example.org，见 https://example.org/a", []),
        ("导出 3 条（format=csv&status=open）", []),
    ],
)
def test_english_words_are_found_and_codes_are_not(text, words) -> None:
    assert english_words(text) == words
