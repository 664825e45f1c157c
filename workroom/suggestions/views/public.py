"""Public tracking pages: ``GET/POST /track`` (the code travels in the POST body, never in
a URL) and ``GET /api/v1/track/<code>?phone4=NNNN``, which answers the same as JSON. An
unknown code, a wrong phone and a locked code all get the same 404 answer. Requests are
rate-limited per client (TRACK_RATE_LIMIT)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workroom.clock import utcnow
from workroom.errors import DomainError
from workroom.extensions import limiter
from workroom.suggestions.forms import TrackForm
from workroom.suggestions.tracking import as_json, lookup, normalise_code, normalise_phone4

bp = Blueprint("tracking", __name__)

DEFAULT_RATE_LIMIT = "20 per minute"


def _rate_limit() -> str:
    return str(current_app.config.get("TRACK_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


def _no_store(response: Any, status: int) -> Any:
    response = current_app.make_response((response, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/track", methods=["GET", "POST"])
@limiter.shared_limit(_rate_limit, scope="track", methods=["POST"])
def page() -> Any:
    form = TrackForm()
    lang = request.args.get("lang") or None
    if form.validate_on_submit():
        code = normalise_code(form.code.data)
        phone4 = normalise_phone4(form.phone4.data)
        if code is None:
            form.add_error(DomainError(_l("Enter the code as printed, such as 7K3M9QXH."), "code"))
        if phone4 is None:
            form.add_error(DomainError(_l("Enter exactly 4 digits."), "phone4"))
        if not form.errors:
            result = lookup(code, phone4, utcnow())  # type: ignore[arg-type]
            if result is None:
                return _no_store(render_template("tracking/not_found.html", lang=lang), 404)
            return _no_store(render_template("tracking/result.html", result=result, lang=lang), 200)
    status = 400 if form.errors else 200
    return _no_store(render_template("tracking/page.html", form=form, lang=lang), status)


def _flooded_message() -> str:
    return _("Too many requests. Wait a minute and try again.")


@bp.get("/api/v1/track/<code>")
@limiter.shared_limit(_rate_limit, scope="track", error_message=_flooded_message)
def api_track(code: str) -> Any:
    phone4 = normalise_phone4(request.args.get("phone4"))
    if phone4 is None:
        body = {
            "error": "bad_request",
            "message": _("Give the last 4 digits of the phone number as phone4."),
        }
        return _no_store(body, 400)
    result = lookup(normalise_code(code), phone4, utcnow())
    if result is None:
        body = {
            "error": "not_found",
            "message": _(
                "Nothing matches this code and these digits. Check both, or ask at the workroom."
            ),
        }
        return _no_store(body, 404)
    return _no_store(as_json(result), 200)
