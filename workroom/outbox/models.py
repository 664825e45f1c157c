"""The outbox table: every outgoing email and SMS."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from workroom.clock import utcnow
from workroom.db import db
from workroom.outbox.labels import error_label
from workroom.privacy import mask_phone

CHANNELS = {"email": _l("Email"), "sms": _l("SMS")}

# pending: waiting for its next attempt; sending: claimed by a runner (a lease);
# sent: accepted by the SMTP server or the SMS gateway; failed: given up, retryable.
STATUSES = {
    "pending": _l("Pending"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Names the event the message is about, e.g. "reminder:2026-12-09:17:email";
    # the same key is never sent twice in normal operation.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    # An email address, or an 11-digit mainland mobile number.
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    sms_template: Mapped[str] = mapped_column(sa.String(100), default="")
    sms_params: Mapped[str] = mapped_column(sa.Text, default="{}")
    sms_signature: Mapped[str] = mapped_column(sa.String(40), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # The runner sending it and since when; a claim older than the lease is taken over.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[dt.datetime | None]
    # Recipient masked and text removed after retention (workroom.retention).
    purged_at: Mapped[dt.datetime | None]

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.sms_params or "{}")

    @property
    def masked_recipient(self) -> str:
        return mask_phone(self.recipient) if self.channel == "sms" else self.recipient

    @property
    def error_label(self) -> str:
        """The last error in the reader's language (the stored text stays as it was)."""
        return error_label(self.last_error)

    @property
    def status_label(self) -> str:
        return str(STATUSES.get(self.status, self.status))

    @property
    def channel_label(self) -> str:
        return str(CHANNELS.get(self.channel, self.channel))

    def __str__(self) -> str:
        return self.dedupe_key
