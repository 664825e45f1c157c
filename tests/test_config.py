"""Where settings come from, in which order, and what they switch on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import request as current_request

from tests.conftest import csrf_from, reset_postgres
from workroom import create_app
from workroom.audit.models import AuditEvent


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No WORKROOM_* variable from the calling shell leaks into these apps."""
    for key in list(os.environ):
        if key.startswith("WORKROOM_"):
            monkeypatch.delenv(key)
    return monkeypatch


@pytest.fixture
def instance(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Path:
    """An instance folder named by WORKROOM_INSTANCE_PATH, with its own SQLite URL."""
    folder = tmp_path / "instance"
    folder.mkdir()
    clean_env.setenv("WORKROOM_INSTANCE_PATH", str(folder))
    clean_env.setenv("WORKROOM_DATABASE_URL", f"sqlite:///{tmp_path / 'config.sqlite'}")
    return folder


def _dispose(app) -> None:
    from workroom.db import db

    with app.app_context():
        db.engine.dispose()


def _app(test_config=None):
    app = create_app(test_config)
    _dispose(app)
    return app


def test_defaults_apply_without_instance_config(instance: Path) -> None:
    app = _app()
    assert app.config["TIMEZONE"] == "Asia/Shanghai"
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"
    assert app.config["TRUSTED_PROXIES"] == 0
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.instance_path == str(instance)


def test_instance_config_overrides_defaults(instance: Path) -> None:
    (instance / "config.py").write_text('TIMEZONE = "Asia/Urumqi"\nPAGE_SIZE = 7\n')
    app = _app()
    assert app.config["TIMEZONE"] == "Asia/Urumqi"
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Urumqi"
    assert app.config["PAGE_SIZE"] == 7


def test_environment_overrides_instance_config(
    instance: Path, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    (instance / "config.py").write_text(
        'TIMEZONE = "Asia/Urumqi"\nPUBLIC_URL = "http://instance.example"\n'
        'SQLALCHEMY_DATABASE_URI = "sqlite:////nowhere/instance.sqlite"\nTRUSTED_PROXIES = 3\n'
    )
    database = f"sqlite:///{tmp_path / 'from-env.sqlite'}"
    clean_env.setenv("WORKROOM_DATABASE_URL", database)
    clean_env.setenv("WORKROOM_TIMEZONE", "Asia/Hong_Kong")
    clean_env.setenv("WORKROOM_PUBLIC_URL", "https://workroom.example/")
    clean_env.setenv("WORKROOM_TRUSTED_PROXIES", "1")
    app = _app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database
    assert app.config["TIMEZONE"] == "Asia/Hong_Kong"
    assert app.config["PUBLIC_URL"] == "https://workroom.example"
    assert app.config["TRUSTED_PROXIES"] == 1
    assert isinstance(app.config["TRUSTED_PROXIES"], int)


def test_test_config_wins_and_skips_instance_config(
    instance: Path, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    (instance / "config.py").write_text("PAGE_SIZE = 7\nLOGIN_LOCKOUT_MINUTES = 99\n")
    clean_env.setenv("WORKROOM_TIMEZONE", "Asia/Hong_Kong")
    clean_env.setenv("WORKROOM_LOGIN_LOCKOUT_MINUTES", "42")
    database = f"sqlite:///{tmp_path / 'from-test.sqlite'}"
    app = _app({"TIMEZONE": "Asia/Chongqing", "SQLALCHEMY_DATABASE_URI": database})
    assert app.config["TIMEZONE"] == "Asia/Chongqing"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database
    # instance/config.py is not read at all; the environment still is.
    assert app.config["PAGE_SIZE"] == 25
    assert app.config["LOGIN_LOCKOUT_MINUTES"] == 42


def test_secret_key_is_generated_once_and_kept(instance: Path, tmp_path: Path) -> None:
    first = _app()
    key = first.config["SECRET_KEY"]
    assert key and len(key) >= 32
    assert (instance / "secret_key").read_text().strip() == key
    assert _app().config["SECRET_KEY"] == key

    other = tmp_path / "other-instance"
    again = _app({"INSTANCE_PATH": str(other), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert (other / "secret_key").exists()
    assert again.config["SECRET_KEY"] != key


def test_configured_secret_key_is_used_as_given(instance: Path) -> None:
    (instance / "config.py").write_text('SECRET_KEY = "from-the-instance-config"\n')
    app = _app()
    assert app.config["SECRET_KEY"] == "from-the-instance-config"
    assert not (instance / "secret_key").exists()


def test_https_public_url_makes_cookies_secure(
    instance: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("WORKROOM_PUBLIC_URL", "https://workroom.example")
    app = _app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


# The client address behind a reverse proxy.


def _failed_sign_in_address(app, headers: dict[str, str]) -> tuple[str, str]:
    """Fail one sign-in from 10.0.0.1; return the audited address and request.remote_addr."""
    from workroom.db import db

    app.add_url_rule("/_test/address", "test_address", lambda: current_request.remote_addr or "")
    client = app.test_client()
    environ = {"REMOTE_ADDR": "10.0.0.1"}
    token = csrf_from(client.get("/login", environ_base=environ).get_data(as_text=True))
    client.post(
        "/login",
        data={"username": "nobody", "password": "wrong-password", "csrf_token": token},
        headers=headers,
        environ_base=environ,
    )
    seen = client.get("/_test/address", headers=headers, environ_base=environ)
    with app.app_context():
        address = db.session.scalar(
            sa.select(AuditEvent.client_address).where(AuditEvent.action == "login.failure")
        )
    return address, seen.get_data(as_text=True)


@pytest.fixture
def proxied_app(
    app_config, migrated_database, clean_env: pytest.MonkeyPatch, request: pytest.FixtureRequest
):
    clean_env.setenv("WORKROOM_TRUSTED_PROXIES", request.param)
    app = create_app(app_config)
    yield app
    if migrated_database["kind"] == "postgresql":
        reset_postgres(app, migrated_database["reference"])
    _dispose(app)


@pytest.mark.parametrize("proxied_app", ["1"], indirect=True)
def test_one_trusted_proxy_takes_client_address_from_forwarded_for(proxied_app) -> None:
    assert proxied_app.config["TRUSTED_PROXIES"] == 1
    headers = {"X-Forwarded-For": "203.0.113.7"}
    assert _failed_sign_in_address(proxied_app, headers) == ("203.0.113.7", "203.0.113.7")


@pytest.mark.parametrize("proxied_app", ["0"], indirect=True)
def test_without_trusted_proxies_forwarded_for_is_ignored(proxied_app) -> None:
    headers = {"X-Forwarded-For": "203.0.113.7"}
    assert _failed_sign_in_address(proxied_app, headers) == ("10.0.0.1", "10.0.0.1")
