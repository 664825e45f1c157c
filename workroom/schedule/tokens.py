"""Signed links in reminders, secret feed tokens, and public addresses built from PUBLIC_URL."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

ACTIONS = ("confirm", "decline")
_SALT = "workroom.assignment-response"
# A reminder may go out when a day is published, up to a few months ahead.
DEFAULT_LINK_MAX_AGE_DAYS = 120


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def make_assignment_token(assignment_id: int, action: str) -> str:
    """A signed, URL-safe token that lets its holder confirm or decline one assignment."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    return _serializer().dumps({"a": int(assignment_id), "x": action})


class AssignmentLink(NamedTuple):
    """What a reminder link carries: the assignment, the reply, and when it was signed
    (naive UTC, to the second)."""

    assignment_id: int
    action: str
    issued_at: dt.datetime


def load_assignment_token(token: str, max_age: int | None = None) -> AssignmentLink | None:
    """The link a token was made for, or None when it is forged, damaged or older than
    ``max_age`` seconds (default: the ASSIGNMENT_LINK_MAX_AGE_DAYS setting)."""
    if max_age is None:
        days = current_app.config.get("ASSIGNMENT_LINK_MAX_AGE_DAYS", DEFAULT_LINK_MAX_AGE_DAYS)
        max_age = int(days) * 86400
    if not token or len(token) > 200:
        return None
    try:
        data, signed = _serializer().loads(token, max_age=max_age, return_timestamp=True)
    except (BadSignature, UnicodeError):
        return None
    if not isinstance(data, dict) or data.get("x") not in ACTIONS:
        return None
    try:
        assignment_id = int(data["a"])
    except (KeyError, TypeError, ValueError):
        return None
    return AssignmentLink(assignment_id, str(data["x"]), signed.replace(tzinfo=None))


def new_feed_token() -> str:
    """A fresh secret for a private feed link (256 random bits)."""
    return secrets.token_urlsafe(32)


def hash_feed_token(token: str) -> str:
    """The stored form of a feed token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def public_host() -> str:
    """The host name of PUBLIC_URL (used in calendar UIDs)."""
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "workroom.localhost"


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute address of ``endpoint`` under PUBLIC_URL, never under the request's host.

    Works without a request (jobs build links in reminders).
    """
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)
