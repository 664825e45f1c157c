"""Request-wide behaviour: security headers, error pages, proxies, SQLite locking."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import Conflict, HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from workroom.db import ID_MAX, db, reset_write_intent, set_write_intent

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
log = logging.getLogger("workroom.web")


def _security_headers(response: Any) -> Any:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static" and session_is_signed_in():
        # Staff pages may hold personal data and one-time passwords: never cache them.
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def session_is_signed_in() -> bool:
    from flask_security import current_user

    return bool(getattr(current_user, "is_authenticated", False))


def _sqlite_write_intent() -> None:
    # Read-only requests begin deferred transactions; writes take the lock up front.
    g._write_intent_token = set_write_intent(request.method not in _SAFE_METHODS)


def _reset_write_intent(_exc: BaseException | None) -> None:
    token = g.pop("_write_intent_token", None)
    if token is not None:
        reset_write_intent(token)


def _render_error(error: HTTPException) -> Any:
    code = error.code or 500
    template = (
        f"errors/{code}.html" if code in (400, 403, 404, 405, 409, 429) else "errors/generic.html"
    )
    # The error's own headers stay (a 405's Allow, a 429's Retry-After); the body is ours.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": error.name, "message": error.description}, code, headers
    return render_template(template, error=error, back=_back_url()), code, headers


def _back_url() -> str | None:
    """The page the request came from, on this site: going back shows it as it now is."""
    referrer = request.referrer
    if referrer and urlsplit(referrer).netloc == request.host:
        return referrer
    return None


def _server_error(error: Exception) -> Any:
    db.session.rollback()
    if request.path.startswith("/api/"):
        return {"error": "Internal Server Error"}, 500
    return render_template("errors/500.html"), 500


def _changed_meanwhile(error: Exception) -> Any:
    # Two people did the same thing at once and a constraint kept the second out, or a
    # row the second was working on was removed by the first: the loser is told the
    # state changed (409), never a 500, and nothing half-done stays.
    db.session.rollback()
    log.warning(
        "changed meanwhile: %s %s: %s", request.method, request.path, getattr(error, "orig", error)
    )
    return _render_error(
        Conflict(
            _("Someone changed this at the same moment. Reload the page to see it as it is now.")
        )
    )


def _csrf_error(error: CSRFError) -> Any:
    return render_template("errors/400.html", error=error, csrf=True), 400


class IdConverter(IntegerConverter):
    """``<int:…>`` in a route: a number beyond the database's integer is no row (404),
    never an overflow in the query."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def use_id_converter(app: Flask) -> None:
    """Called before any route is added, so that every ``<int:…>`` uses IdConverter."""
    app.url_map.converters["int"] = IdConverter


def init_web(app: Flask) -> None:
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(_sqlite_write_intent)
    app.teardown_request(_reset_write_intent)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    for changed in (IntegrityError, ObjectDeletedError, StaleDataError):
        app.register_error_handler(changed, _changed_meanwhile)
    app.register_error_handler(HTTPException, _render_error)
    app.register_error_handler(500, _server_error)
