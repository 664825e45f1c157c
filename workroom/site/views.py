"""The front door: home pages, language switch, health check."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_security import auth_required, current_user

from workroom import retention
from workroom.auth.permissions import require
from workroom.db import db
from workroom.i18n import normalize_locale

bp = Blueprint("site", __name__)


@bp.get("/")
def home() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("site.staff_home"))
    # Citizens who type the address find the workrooms; staff find the sign-in there.
    return redirect(url_for("public.index"))


@bp.get("/staff")
@auth_required()
def staff_home() -> Any:
    return render_template("site/staff_home.html")


@bp.get("/staff/settings")
@auth_required()
def settings() -> Any:
    """The settings that say what the office promises: how long each kind of personal
    data is kept (``workroom.retention``)."""
    require("settings.view")
    return render_template("site/settings.html", retention=retention.table())


@bp.post("/language")
def set_language() -> Any:
    locale = normalize_locale(request.form.get("locale"))
    if locale:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    target = request.form.get("next") or url_for("site.home")
    # Only same-site paths: never an open redirect.
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = url_for("site.home")
    return redirect(target)


@bp.get("/healthz")
def healthz() -> Any:
    try:
        db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        database = "unreachable"
    body = {"database": database, "version": current_app.config.get("VERSION", "0.1.0")}
    return body, 200 if database == "ok" else 503
