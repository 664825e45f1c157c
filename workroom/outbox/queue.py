"""Queue outgoing messages in the caller's transaction; they leave after the commit.

A message is identified by its dedupe key: queueing the same key twice keeps the
first message. The email Message-ID and the SMS gateway's idempotency key derive
from the dedupe key, so a resend after a crash carries the same identity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from workroom.audit.log import record
from workroom.clock import as_utc_naive
from workroom.db import db
from workroom.errors import Conflict, DomainError
from workroom.outbox.models import OutboxMessage
from workroom.privacy import normalize_mobile

MAX_KEY_LENGTH = 200


def _digest(dedupe_key: str) -> str:
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]


def message_id_for(dedupe_key: str) -> str:
    """The email Message-ID of this dedupe key, e.g. ``<3f2a…@workroom.example.cn>``."""
    host = urlsplit(current_app.config.get("PUBLIC_URL", "")).hostname or "workroom.localhost"
    return f"<{_digest(dedupe_key)}@{host}>"


def idempotency_key_for(dedupe_key: str) -> str:
    """The SMS gateway's idempotency key of this dedupe key (32 hex digits)."""
    return _digest(dedupe_key)


def _check_key(dedupe_key: str) -> str:
    dedupe_key = (dedupe_key or "").strip()
    if not dedupe_key or len(dedupe_key) > MAX_KEY_LENGTH:
        raise DomainError(_l("A message needs a key of 1 to 200 characters."), "dedupe_key")
    return dedupe_key


def usable_email(value: str | None) -> str | None:
    """The address, stripped, when it can receive email (something@somewhere, no spaces,
    at most 254 characters); else None."""
    value = (value or "").strip()
    local, at, domain = value.rpartition("@")
    if not (local and at and domain) or len(value) > 254 or any(c.isspace() for c in value):
        return None
    return value


def _insert_once(values: dict[str, Any]) -> OutboxMessage:
    """Insert unless the dedupe key exists; return the row either way.

    ON CONFLICT DO NOTHING leaves the caller's transaction intact on both dialects.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(OutboxMessage).values(**values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(OutboxMessage).values(**values)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"Unsupported database: {dialect}")
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["dedupe_key"]))
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == values["dedupe_key"])
    ).one()


def queue_email(
    dedupe_key: str, to: str, subject: str, body: str, now: dt.datetime
) -> OutboxMessage:
    """Add an email to the current transaction (the caller commits).

    Returns the existing message, unchanged, when ``dedupe_key`` was queued before.
    Raises DomainError for an empty or over-long key or an address that cannot receive
    email (see :func:`usable_email`).
    """
    dedupe_key = _check_key(dedupe_key)
    address = usable_email(to)
    if address is None:
        raise DomainError(_l("Enter a valid email address."), "email")
    to = address
    now = as_utc_naive(now)
    return _insert_once(
        {
            "dedupe_key": dedupe_key,
            "channel": "email",
            "recipient": to,
            "subject": " ".join((subject or "").split())[:200],
            "body": body or "",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
    )


def queue_sms(
    dedupe_key: str,
    to: str,
    template: str,
    params: dict[str, Any],
    now: dt.datetime,
    signature: str | None = None,
) -> OutboxMessage:
    """Add an SMS to the current transaction (the caller commits).

    ``template`` is the gateway's template id and ``params`` its variables (values
    are sent as strings); ``signature`` defaults to the SMS_SIGNATURE setting.
    Returns the existing message, unchanged, when ``dedupe_key`` was queued before.
    Raises DomainError for a bad key, template or mobile number.
    """
    dedupe_key = _check_key(dedupe_key)
    mobile = normalize_mobile(to)
    template = (template or "").strip()
    if not template or len(template) > 100:
        raise DomainError(_l("An SMS needs a template id."), "template")
    if signature is None:
        signature = current_app.config.get("SMS_SIGNATURE", "")
    now = as_utc_naive(now)
    return _insert_once(
        {
            "dedupe_key": dedupe_key,
            "channel": "sms",
            "recipient": mobile,
            "sms_template": template,
            "sms_params": json.dumps(
                {str(k): str(v) for k, v in (params or {}).items()},
                ensure_ascii=False,
                sort_keys=True,
            ),
            "sms_signature": (signature or "")[:40],
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
    )


def retry_message(message: OutboxMessage, now: dt.datetime) -> None:
    """Send a failed or waiting message again at ``now`` (a failed one gets fresh attempts).

    Raises Conflict when the message is being sent or was sent, or its recipient was
    removed after retention.
    """
    if message.status not in ("failed", "pending"):
        raise Conflict(_l("Only a failed or waiting message can be retried."))
    if message.purged_at is not None:
        raise Conflict(_l("This message's recipient was removed after retention."))
    now = as_utc_naive(now)
    if message.status == "failed":
        message.attempts = 0
    message.status = "pending"
    message.next_attempt_at = now
    message.claimed_by = None
    message.claimed_at = None
    record("outbox.retry", message, summary=message.dedupe_key, at=now)
