"""Append events to the audit log. The app never changes them, except the sealing job
that puts them into the hash chain (``workroom.audit.chain``), and never deletes them,
except the retention purge, which keeps at least six months whatever else is configured.

A summary is written once, in the office's language (the default locale), whoever
acted and in whatever language their page was: pass words as lazy strings
(``_l("%(day)s: %(name)s added", ...)``) and they are rendered then.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_babel import force_locale

from workroom.audit.models import AuditEvent
from workroom.clock import utcnow
from workroom.db import db
from workroom.i18n import default_locale
from workroom.privacy import scrub_numbers


def scrub(text: str) -> str:
    """Mask mobile and ID numbers so the log never holds them in full."""
    return scrub_numbers(text)


def stored_words(text: Any) -> str:
    """``text`` as it is kept: a lazy string rendered in the office's language."""
    if isinstance(text, str):
        return text
    with force_locale(default_locale()):
        return str(text)


def _current_actor() -> Any:
    if not has_request_context():
        return None
    from flask_security import current_user

    return current_user if getattr(current_user, "is_authenticated", False) else None


@functools.cache
def _insert_event() -> sa.Insert:
    # Built once; a Core insert runs at once, without a unit-of-work flush.
    return sa.insert(AuditEvent.__table__)


def record(
    action: str,
    obj: Any = None,
    *,
    summary: Any = "",
    actor: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    at: dt.datetime | None = None,
) -> None:
    """Write an audit event in the current transaction (the caller commits).

    The actor defaults to the signed-in user and the address to the request's client.
    An ``obj`` not yet flushed is flushed first, for its id.
    """
    actor = actor if actor is not None else _current_actor()
    if obj is not None:
        object_type = object_type or obj.__tablename__
        if object_id is None:
            if obj.id is None:
                db.session.flush()
            object_id = obj.id
    db.session.execute(
        _insert_event(),
        {
            "at": at or utcnow(),
            "actor_id": getattr(actor, "id", None),
            "actor_name": (getattr(actor, "username", None) or "")[:60],
            "action": action,
            "object_type": object_type or "",
            "object_id": "" if object_id is None else str(object_id)[:40],
            "summary": scrub(stored_words(summary))[:500],
            "client_address": (request.remote_addr or "")[:64] if has_request_context() else "",
        },
    )


def set_active(obj: Any, active: bool, kind: str, summary: str | None = None) -> None:
    """Activate or deactivate ``obj`` and record the change; nothing is hard-deleted."""
    if obj.active != active:
        obj.active = active
        record(f"{kind}.{'activate' if active else 'deactivate'}", obj, summary=summary or str(obj))
