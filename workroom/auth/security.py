"""Sign-in with Flask-Security-Too: our models, throttling, lockout, audit, and the
password change an admin reset demands."""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask, abort, redirect, request, url_for
from flask_security import SQLAlchemyUserDatastore, current_user
from flask_security.signals import password_changed

from workroom import throttle
from workroom.audit.log import record
from workroom.auth.accounts import find_user, note_failed_login, note_successful_login
from workroom.auth.models import Role, User
from workroom.clock import utcnow
from workroom.db import db
from workroom.extensions import security

user_datastore = SQLAlchemyUserDatastore(db, User, Role)

# Endpoints a user who must change the password may still reach.
_OPEN_WHILE_CHANGING = {
    "security.change_password",
    "security.logout",
    "static",
    "site.set_language",
}


def _throttled(app: Flask) -> bool:
    """Count one sign-in attempt per address and per submitted username."""
    username = (request.form.get("username") or "").strip().lower()[:60]
    address = request.remote_addr or ""
    by_address = throttle.hit(app.config["LOGIN_LIMIT_PER_ADDRESS"], "login-address", address)
    by_account = (
        throttle.hit(app.config["LOGIN_LIMIT_PER_ACCOUNT"], "login-account", username)
        if username
        else None
    )
    return by_address is not None or by_account is not None


def _wrap_login(app: Flask) -> None:
    login_view = app.view_functions["security.login"]

    @functools.wraps(login_view)
    def login(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return login_view(*args, **kwargs)
        if _throttled(app):
            record("login.throttled", summary=(request.form.get("username") or "")[:60])
            db.session.commit()
            abort(429)
        response = login_view(*args, **kwargs)
        username = (request.form.get("username") or "")[:60]
        if current_user.is_authenticated:
            note_successful_login(current_user)
            record("login.success", current_user, summary=current_user.username)
        else:
            user = find_user(username) if username else None
            if user is not None:
                note_failed_login(user, utcnow())
            record("login.failure", summary=username)
        db.session.commit()
        return response

    app.view_functions["security.login"] = login


def _require_password_change() -> Any:
    if (
        current_user.is_authenticated
        and current_user.password_change_required
        and request.endpoint not in _OPEN_WHILE_CHANGING
    ):
        return redirect(url_for("security.change_password"))
    return None


def _on_password_changed(_app: Flask, user: User, **_extra: Any) -> None:
    user.password_change_required = False
    record("user.password_change", user, summary=user.username, actor=user)


def init_security(app: Flask) -> None:
    security.init_app(app, user_datastore)
    _wrap_login(app)
    app.before_request(_require_password_change)
    password_changed.connect(_on_password_changed, app)
