"""Headers, cookies, CSRF, sign-in throttling and lockout, and the admin password reset."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, csrf_from, login, post_form
from workroom.audit.models import AuditEvent
from workroom.auth.models import User
from workroom.places.models import Workroom


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_security_headers(response) -> None:
    csp = _csp(response)
    assert csp.get("object-src") == ["'none'"]
    assert csp.get("base-uri") == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src, "no script-src nor default-src"
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy")


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _attempt(client, username: str, password: str, **kw):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, **kw
    )


def _signed_in(client) -> bool:
    return client.get("/staff").status_code == 200


# Headers


def test_headers_on_a_page(client) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert_security_headers(response)


def test_headers_on_not_found(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_security_headers(response)


@pytest.fixture
def failing_app(app_config, request: pytest.FixtureRequest):
    app_config["PROPAGATE_EXCEPTIONS"] = False
    app = request.getfixturevalue("app")

    def boom():
        raise RuntimeError("test failure")

    app.add_url_rule("/_test/boom", "test_boom", boom)
    return app


def test_headers_on_server_error(failing_app) -> None:
    response = failing_app.test_client().get("/_test/boom")
    assert response.status_code == 500
    assert "test failure" not in response.get_data(as_text=True)
    assert_security_headers(response)


# Cookies and CSRF


def test_session_cookie_is_http_only_and_same_site_lax(client, make_user) -> None:
    response = login(client, make_user("viewer"))
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers.getlist("Set-Cookie")
    assert "HttpOnly" in cookies[-1]
    assert "SameSite=Lax" in cookies[-1]


def test_staff_form_without_csrf_token_is_refused(client, db, login_as, make_area) -> None:
    street = make_area()
    login_as("admin")
    response = client.post(
        "/staff/workrooms/new",
        data={"name": "无令牌工作室", "slug": "no-token", "area_id": street.id},
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(Workroom).where(Workroom.slug == "no-token")) is None


def test_sign_in_without_csrf_token_is_refused(client, make_user) -> None:
    user = make_user("viewer")
    client.get("/login")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert not _signed_in(client)


# Sign-in


def _without_tokens(html: str, username: str) -> str:
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)
    return html.replace(username, "USERNAME")


def test_wrong_password_and_unknown_user_read_the_same(client, db, make_user) -> None:
    user = make_user("viewer", username="known-user")
    wrong = _attempt(client, user.username, "not-the-password", headers={"Accept-Language": "en"})
    unknown = _attempt(client, "nobody-here", "not-the-password", headers={"Accept-Language": "en"})
    assert wrong.status_code == unknown.status_code
    assert wrong.status_code != 302
    text = wrong.get_data(as_text=True)
    assert 'class="error-summary"' in text
    assert "exist" not in text.lower() and "Invalid password" not in text
    assert _without_tokens(wrong.get_data(as_text=True), "known-user") == _without_tokens(
        unknown.get_data(as_text=True), "nobody-here"
    )
    assert not _signed_in(client)


def test_sign_ins_are_audited_with_client_address(client, db, make_user) -> None:
    user = make_user("viewer")
    _attempt(client, user.username, "not-the-password")
    login(client, user)
    failure = _events(db, "login.failure")
    success = _events(db, "login.success")
    assert len(failure) == 1 and len(success) == 1
    assert failure[0].summary == user.username
    assert success[0].actor_id == user.id
    assert failure[0].client_address == "127.0.0.1"
    assert success[0].client_address == "127.0.0.1"


@pytest.fixture
def throttled_app(app_config, request: pytest.FixtureRequest):
    app_config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per minute"
    return request.getfixturevalue("app")


def test_too_many_attempts_answer_429(throttled_app, client, db, make_user) -> None:
    user = make_user("viewer")
    for _ in range(3):
        assert _attempt(client, user.username, "not-the-password").status_code == 200
    response = _attempt(client, user.username, PASSWORD)
    assert response.status_code == 429
    assert not _signed_in(client)
    assert _events(db, "login.throttled")


@pytest.fixture
def lockout_app(app_config, request: pytest.FixtureRequest):
    app_config["LOGIN_LOCKOUT_FAILURES"] = 3
    return request.getfixturevalue("app")


def test_account_locks_after_failures_even_for_the_right_password(
    lockout_app, client, db, make_user
) -> None:
    user = make_user("viewer")
    for _ in range(3):
        _attempt(client, user.username, "not-the-password")
    response = _attempt(client, user.username, PASSWORD)
    assert response.status_code != 302
    assert not _signed_in(client)
    assert _events(db, "user.locked")
    assert db.session.get(User, user.id).locked_until is not None


def test_deactivated_user_cannot_sign_in(client, db, make_user) -> None:
    user = make_user("viewer")
    user.active = False
    db.session.commit()
    response = _attempt(client, user.username, PASSWORD)
    assert response.status_code != 302
    assert not _signed_in(client)


def test_sign_out_only_by_post(client, make_user) -> None:
    login(client, make_user("viewer"))
    assert client.get("/logout").status_code == 405
    assert _signed_in(client)
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert not _signed_in(client)


# Admin password reset


def test_reset_password_forces_a_change_before_any_staff_page(app, client, db, make_user) -> None:
    admin = make_user("admin")
    user = make_user("viewer")
    login(client, admin)
    token = csrf_from(client.get(f"/staff/users/{user.id}").get_data(as_text=True))
    shown = client.post(f"/staff/users/{user.id}/reset-password", data={"csrf_token": token})
    assert shown.status_code == 200
    match = re.search(r"<code>([^<]+)</code>", shown.get_data(as_text=True))
    assert match, "the new password is not shown"
    new_password = match.group(1)
    assert new_password != PASSWORD

    other = app.test_client()
    assert _attempt(other, user.username, PASSWORD).status_code != 302
    login(other, user, new_password)
    for page in ("/staff", "/staff/workrooms", "/staff/areas"):
        response = other.get(page)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/account/password")

    changed = post_form(
        other,
        "/account/password",
        {
            "password": new_password,
            "new_password": "a-brand-new-password",
            "new_password_confirm": "a-brand-new-password",
        },
    )
    assert changed.status_code == 302
    assert other.get("/staff").status_code == 200
    assert other.get("/staff/workrooms").status_code == 200
    assert db.session.get(User, user.id).password_change_required is False
    assert _events(db, "user.password_reset")[0].object_id == str(user.id)
    assert _events(db, "user.password_change")[0].actor_id == user.id
