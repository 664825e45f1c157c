"""Chinese by default and for every Chinese browser; English on request."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import csrf_from


def _lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "no <html lang>"
    return match.group(1)


@pytest.mark.parametrize(
    "accept",
    ["zh-CN,zh;q=0.9,en;q=0.8", "zh", "zh-Hans", "zh-Hans-CN", "zh-TW", "zh-HK,en;q=0.5"],
)
def test_chinese_browsers_get_chinese(client, accept: str) -> None:
    response = client.get("/login", headers={"Accept-Language": accept})
    assert response.status_code == 200
    assert _lang(response) == "zh-Hans-CN"


def test_english_browser_gets_english(client) -> None:
    response = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert _lang(response) == "en"
    assert "Sign in" in response.get_data(as_text=True)


def test_no_preference_means_chinese(client) -> None:
    assert _lang(client.get("/login")) == "zh-Hans-CN"


def test_unknown_language_falls_back_to_chinese(client) -> None:
    assert (
        _lang(client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})) == "zh-Hans-CN"
    )


def test_query_parameter_switches_to_english(client) -> None:
    response = client.get("/login?lang=en", headers={"Accept-Language": "zh-CN"})
    assert _lang(response) == "en"


def _switch(client, locale: str, next_url: str | None = None):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"locale": locale, "csrf_token": token}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/language", data=data)


def test_language_choice_is_kept_in_the_session(client) -> None:
    response = _switch(client, "en", "/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    chinese_browser = {"Accept-Language": "zh-CN,zh;q=0.9"}
    assert _lang(client.get("/login", headers=chinese_browser)) == "en"
    _switch(client, "zh_Hans_CN")
    assert _lang(client.get("/login", headers={"Accept-Language": "en"})) == "zh-Hans-CN"


def test_signed_in_user_keeps_the_language(client, db, login_as) -> None:
    user = login_as("viewer")
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    client.post("/language", data={"locale": "en", "csrf_token": token, "next": "/staff"})
    db.session.refresh(user)
    assert user.locale == "en"
    assert _lang(client.get("/staff", headers={"Accept-Language": "zh-CN"})) == "en"


def test_language_switch_needs_csrf_token(client) -> None:
    client.get("/login")
    assert client.post("/language", data={"locale": "en"}).status_code == 400


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/login",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        " //evil.example",
    ],
)
def test_language_switch_never_redirects_off_site(client, target: str) -> None:
    response = _switch(client, "en", target)
    assert response.status_code == 302
    # Resolved as a browser would, backslashes read as slashes.
    location = response.headers["Location"].replace("\\", "/")
    assert urlsplit(urljoin("http://workroom.test/staff", location)).netloc == "workroom.test"


def test_protocol_relative_next_goes_home(client) -> None:
    assert _switch(client, "en", "//evil.example").headers["Location"] == "/"
