"""Send due outbox messages: email over SMTP, SMS through an HTTP webhook gateway.

Delivery is at least once. A runner claims a batch in a short transaction (a
lease), sends each message outside any transaction and records the outcome
message by message. A runner that dies while sending leaves its claim behind;
when the lease expires another runner sends again with the same Message-ID or
idempotency key, so the receiving side can recognise the repeat.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from workroom.audit.log import scrub
from workroom.clock import as_utc_naive
from workroom.db import db, writing
from workroom.outbox.models import OutboxMessage
from workroom.outbox.queue import idempotency_key_for, message_id_for
from workroom.privacy import mask_phone

log = logging.getLogger("workroom.outbox")

# Settings read here, with their defaults.
# Gateway answers that reject this one message rather than signal an outage.
_PERMANENT_HTTP = {400, 422}


class DeliveryError(Exception):
    """Sending failed; ``permanent`` when retrying the same message cannot help."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclasses.dataclass(frozen=True)
class Outgoing:
    """A claimed message, detached from the session so sending touches no database."""

    id: int
    dedupe_key: str
    channel: str
    recipient: str
    subject: str
    body: str
    sms_template: str
    sms_params: str
    sms_signature: str
    attempts: int

    @classmethod
    def of(cls, message: OutboxMessage) -> Outgoing:
        return cls(**{f.name: getattr(message, f.name) for f in dataclasses.fields(cls)})

    @property
    def masked_recipient(self) -> str:
        return mask_phone(self.recipient) if self.channel == "sms" else self.recipient


@dataclasses.dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retrying + self.failed


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, capped."""
    base = float(current_app.config["OUTBOX_RETRY_BASE_SECONDS"])
    cap = float(current_app.config["OUTBOX_RETRY_MAX_SECONDS"])
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, min(attempts - 1, 30))))


def _due(now: dt.datetime, lease: dt.timedelta) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        sa.and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at <= now - lease),
    )


def claim_due(now: dt.datetime, batch: int, token: str) -> list[Outgoing]:
    """Claim up to ``batch`` due messages for ``token`` and commit the claim.

    Due: pending with its next attempt reached, or sending with an expired lease
    (its runner died). A claim counts as an attempt. A message whose runner died
    on its last allowed attempt is marked failed instead of being claimed again.
    """
    lease = dt.timedelta(seconds=float(current_app.config["OUTBOX_LEASE_SECONDS"]))
    max_attempts = int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    # SQLite: BEGIN IMMEDIATE makes a second runner wait here; PostgreSQL: SKIP LOCKED.
    with writing():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.status == "sending",
                OutboxMessage.claimed_at <= now - lease,
                OutboxMessage.attempts >= max_attempts,
            )
            .values(
                status="failed",
                claimed_by=None,
                claimed_at=None,
                last_error="The runner stopped while sending; it may have been sent.",
            )
        )
        ids = db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(_due(now, lease))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            db.session.commit()
            return []
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(
                status="sending",
                claimed_by=token,
                claimed_at=now,
                attempts=OutboxMessage.attempts + 1,
            )
        )
        rows = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        ).all()
        claimed = [Outgoing.of(m) for m in rows]
        db.session.commit()
    return claimed


def _finish(message: Outgoing, token: str, **values: Any) -> bool:
    """Record the outcome if the claim is still ours (a slow runner may have lost it)."""
    with writing():
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == token)
            .values(claimed_by=None, claimed_at=None, **values)
        )
        db.session.commit()
    return bool(result.rowcount)


def _mark_sent(message: Outgoing, token: str, now: dt.datetime) -> None:
    _finish(message, token, status="sent", sent_at=now, last_error="")
    log.info("Sent %s %s to %s", message.channel, message.dedupe_key, message.masked_recipient)


def _mark_failed(message: Outgoing, token: str, now: dt.datetime, error: DeliveryError) -> str:
    text = scrub(str(error))[:500]
    give_up = error.permanent or message.attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    status = "failed" if give_up else "pending"
    _finish(
        message,
        token,
        status=status,
        last_error=text,
        next_attempt_at=now + backoff(message.attempts),
    )
    log.warning(
        "Could not send %s %s to %s (attempt %s, %s): %s",
        message.channel,
        message.dedupe_key,
        message.masked_recipient,
        message.attempts,
        status,
        text,
    )
    return status


def _release(token: str, ids: list[int]) -> None:
    """Give back claimed messages this runner did not start sending."""
    with writing():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.claimed_by == token,
                OutboxMessage.status == "sending",
            )
            .values(
                status="pending",
                claimed_by=None,
                claimed_at=None,
                attempts=OutboxMessage.attempts - 1,
            )
        )
        db.session.commit()


def deliver_due(now: dt.datetime, batch: int = 50) -> DeliveryReport:
    """Send the messages due at ``now`` (naive UTC or aware); return what happened.

    Commits the session: call it from a job, not inside another transaction.
    Send errors never raise: they are recorded on the message, which is retried
    with exponential backoff and marked failed after OUTBOX_MAX_ATTEMPTS.
    """
    now = as_utc_naive(now)
    token = uuid.uuid4().hex[:16]
    report = DeliveryReport()
    waiting = claim_due(now, batch, token)
    # Stop well within the lease so no other runner takes over a message still in hand.
    deadline = time.monotonic() + float(current_app.config["OUTBOX_LEASE_SECONDS"]) / 2
    try:
        with Mailer() as mailer:
            while waiting and time.monotonic() <= deadline:
                message = waiting.pop(0)
                try:
                    if message.channel == "email":
                        mailer.send(build_email(message, now), message.recipient)
                    elif message.channel == "sms":
                        send_sms(message)
                    else:
                        raise DeliveryError(f"Unknown channel {message.channel}", permanent=True)
                except DeliveryError as error:
                    if _mark_failed(message, token, now, error) == "failed":
                        report.failed += 1
                    else:
                        report.retrying += 1
                    continue
                _mark_sent(message, token, now)
                report.sent += 1
    finally:
        if waiting:
            _release(token, [m.id for m in waiting])
    return report


# Email


def _sender() -> tuple[str, str]:
    """The From header and the envelope sender."""
    configured = current_app.config["MAIL_DEFAULT_SENDER"]
    if isinstance(configured, list | tuple):
        configured = formataddr((configured[0], configured[1]))
    if not configured:
        host = urlsplit(current_app.config.get("PUBLIC_URL", "")).hostname or "localhost"
        configured = f"noreply@{host}"
    return configured, parseaddr(configured)[1]


def build_email(message: Outgoing, now: dt.datetime) -> EmailMessage:
    """The email for ``message``; its Message-ID derives from the dedupe key."""
    email = EmailMessage()
    email["From"] = _sender()[0]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(now.replace(tzinfo=dt.UTC))
    email["Message-ID"] = message_id_for(message.dedupe_key)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body, charset="utf-8")
    return email


class Mailer:
    """One SMTP connection for a batch, opened on the first email and reopened after errors.

    When the server cannot be reached, the rest of the batch fails at once with the
    same error instead of waiting for a timeout each.
    """

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None
        self.unreachable: DeliveryError | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()

    def _connect(self) -> smtplib.SMTP:
        if self.unreachable is not None:
            raise self.unreachable
        host = current_app.config["MAIL_SERVER"]
        if not host:
            self.unreachable = DeliveryError("No mail server is configured (MAIL_SERVER).")
            raise self.unreachable
        port = int(current_app.config["MAIL_PORT"])
        timeout = float(current_app.config["MAIL_TIMEOUT"])
        context = ssl.create_default_context()
        connection: smtplib.SMTP | None = None
        try:
            if current_app.config["MAIL_USE_SSL"]:
                connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            else:
                connection = smtplib.SMTP(host, port, timeout=timeout)
                if current_app.config["MAIL_USE_TLS"]:
                    connection.starttls(context=context)
            username = current_app.config["MAIL_USERNAME"]
            if username:
                connection.login(username, current_app.config["MAIL_PASSWORD"] or "")
        except (smtplib.SMTPException, OSError) as error:
            if connection is not None:
                connection.close()
            self.unreachable = DeliveryError(f"{type(error).__name__}: {error}")
            raise self.unreachable from None
        return connection

    def send(self, email: EmailMessage, recipient: str) -> None:
        """Hand ``email`` to the SMTP server; raise DeliveryError when it is not accepted."""
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(email, from_addr=_sender()[1], to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            refused = "; ".join(f"{code} {reply!r}" for code, reply in error.recipients.values())
            raise DeliveryError(f"Recipient refused: {refused}", permanent=True) from None
        except smtplib.SMTPDataError as error:
            self.close()
            raise DeliveryError(
                f"SMTP {error.smtp_code}: {error.smtp_error!r}", permanent=error.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise DeliveryError(f"{type(error).__name__}: {error}") from None


# SMS


def sms_payload(message: Outgoing) -> dict[str, Any]:
    return {
        "template": message.sms_template,
        "params": json.loads(message.sms_params or "{}"),
        "signature": message.sms_signature,
        "phone": message.recipient,
        "idempotency_key": idempotency_key_for(message.dedupe_key),
    }


def send_sms(message: Outgoing) -> None:
    """POST the SMS to the gateway; a 2xx answer means accepted. Raises DeliveryError."""
    url = current_app.config["SMS_WEBHOOK_URL"]
    if not url:
        raise DeliveryError("No SMS gateway is configured (SMS_WEBHOOK_URL).")
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError("SMS_WEBHOOK_URL must be an http or https address.")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": idempotency_key_for(message.dedupe_key),
    }
    token = current_app.config["SMS_WEBHOOK_TOKEN"]
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(sms_payload(message), ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(  # noqa: S310 (scheme checked above)
            request, timeout=float(current_app.config["SMS_TIMEOUT"])
        ) as response:
            response.read(4096)
    except urllib.error.HTTPError as error:
        body = error.read(300).decode("utf-8", "replace")
        raise DeliveryError(
            f"Gateway answered HTTP {error.code}: {body}", permanent=error.code in _PERMANENT_HTTP
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"Gateway unreachable: {reason}") from None
