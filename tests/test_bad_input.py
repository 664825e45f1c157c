"""Bad input answers a clear error and never reaches the database unchecked.

Numbers in addresses (page numbers, filter ids, ids in paths) are parsed in one place
(``workroom.listing``, ``workroom.web.IdConverter``); text fields follow one rule
(``workroom.text``): a single line holds no line break or control character, a
multi-line text keeps its line breaks.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import IsolatedClient, login, post_form
from workroom.db import db as database
from workroom.demo import seed_demo
from workroom.errors import DomainError
from workroom.text import check_text, text_problem

TWENTY_DIGITS = "9" * 20

# Every paginated list, the account that reads it, and the id filters it takes.
LISTS = [
    ("/staff/visits", "admin", ["workroom", "category"]),
    ("/staff/suggestions", "admin", ["workroom", "category", "area", "agency"]),
    ("/staff/deputies", "admin", ["workroom"]),
    ("/staff/audit", "admin", []),
    ("/staff/messages", "admin", []),
    ("/staff/users", "admin", []),
    ("/staff/workrooms", "admin", []),
    ("/staff/groups", "admin", []),
    ("/staff/agencies", "admin", []),
    ("/staff/routing", "admin", ["category", "area"]),
    ("/agency", "agency_handler", []),
]
PASSWORD = "demo-password-2026"


@pytest.fixture
def app_config(app_config):
    # One row a page, so that the demo's lists have several pages.
    return {**app_config, "PAGE_SIZE": 1}


@pytest.fixture
def demo(app, db):
    from workroom.clock import utcnow
    from workroom.outbox.queue import queue_email

    with time_machine.travel("2026-12-02 02:00:00+00:00", tick=True):
        seed_demo(password=PASSWORD)
        for n in range(2):
            queue_email(f"test:{n}", "liaison@example.org", "测试", "测试", utcnow())
        database.session.commit()
        yield


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _argument_cases() -> list[tuple[str, str, str]]:
    cases = []
    for url, account, ids in LISTS:
        for name in ["page", *ids]:
            for value in (TWENTY_DIGITS, "-1", "x", "1.5", "２"):
                cases.append((url, account, f"{name}={value}"))
    return cases


def _sign_in(client, account: str) -> None:
    # The demo's account names; the agency handler's is agency1.
    login(client, "agency1" if account == "agency_handler" else account, PASSWORD)


@pytest.mark.parametrize(("url", "account", "query"), _argument_cases())
def test_a_number_out_of_range_answers_400_with_a_message(
    client, login_as, make_agency, url, account, query
):
    login_as(account, **({"agency": make_agency()} if account == "agency_handler" else {}))
    response = client.get(f"{url}?{query}&lang=en")
    assert response.status_code == 400
    assert "which is not a number this page knows" in _text(response)
    assert query in _text(response).replace("&amp;", "&")


def test_the_message_is_in_chinese_by_default(client, login_as):
    login_as("admin")
    response = client.get(f"/staff/visits?page={TWENTY_DIGITS}")
    assert response.status_code == 400
    assert "不是本页能识别的数字" in _text(response)


def test_a_page_beyond_the_last_shows_the_last_page(app, demo):
    for url, account, _ids in LISTS:
        client = IsolatedClient(app, app.response_class)
        _sign_in(client, account)
        first = _text(client.get(f"{url}?lang=en"))
        pages = re.search(r"Page 1 of (\d+)", first)
        assert pages, f"{url} has a single page in the demo"
        last = pages.group(1)
        for page in (last, str(int(last) + 1), "2147483647"):
            response = client.get(f"{url}?page={page}&lang=en")
            assert response.status_code == 200, (url, page)
            assert f"Page {last} of {last}" in _text(response), (url, page)


@pytest.mark.parametrize(
    "path",
    [
        f"/staff/visits/{TWENTY_DIGITS}",
        f"/staff/suggestions/{TWENTY_DIGITS}",
        f"/staff/deputies/{TWENTY_DIGITS}",
        f"/staff/workrooms/{TWENTY_DIGITS}",
        "/staff/deputies/2147483648",
    ],
)
def test_an_id_in_the_path_beyond_any_row_is_not_found(client, login_as, path):
    login_as("admin")
    assert client.get(path).status_code == 404


def test_a_wrong_method_answers_405_with_allow(client):
    response = client.put("/track")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    api = client.delete("/api/v1/categories")
    assert api.status_code == 405
    assert "GET" in api.headers["Allow"]
    assert api.get_json()["error"]


# Text fields


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("东湖\n社区", "Keep this on one line"),
        ("东湖\r社区", "Keep this on one line"),
        ("东湖\u2028社区", "Keep this on one line"),
        ("东湖\x07社区", "Remove the invisible control characters"),
        ("东湖\x00社区", "Remove the invisible control characters"),
        ("东湖\u202e区社", "Remove the invisible control characters"),
    ],
)
def test_a_single_line_field_refuses_breaks_and_control_characters(
    client, db, login_as, make_area, value, message
):
    from workroom.places.models import Workroom

    login_as("admin")
    area = make_area()
    response = post_form(
        client,
        "/staff/workrooms/new?lang=en",
        {"name": value, "slug": "donghu", "area_id": area.id, "address": ""},
    )
    assert response.status_code == 400
    assert message in _text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Workroom)) == 0


def test_surrounding_space_and_a_trailing_newline_are_only_trimmed():
    assert check_text(" 东湖社区\n", "name", multiline=False) == "东湖社区"
    assert text_problem("\t东湖社区 ", multiline=False) is None


def test_a_multi_line_text_keeps_its_line_breaks():
    text = "第一行\n第二行\r\n\t第三行"
    assert check_text(text, "content", multiline=True) == text
    with pytest.raises(DomainError) as refused:
        check_text("第一行\x1b[31m", "content", multiline=True)
    assert refused.value.field == "content"


def test_the_checkin_api_refuses_a_name_on_two_lines(client, make_workroom):
    room = make_workroom()
    response = client.post(
        f"/api/v1/workrooms/{room.slug}/checkins",
        json={"category": "environment-noise", "consent": True, "name": "张\n三"},
        headers={"Idempotency-Key": "two-lines-1", "Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "one line" in response.get_json()["errors"]["name"]
