"""Scheduled work of the outbox: sent and failed messages keep their recipient and
text for OUTBOX_RETENTION_DAYS (``workroom.retention``); then the recipient is
masked and the text removed. What was sent, by which channel and when stays."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workroom.audit.log import record
from workroom.db import db
from workroom.outbox.models import OutboxMessage
from workroom.privacy import mask_phone
from workroom.retention import cutoff

BATCH = 1000


def masked_recipient(channel: str, recipient: str) -> str:
    """138****8000, or z***@example.org."""
    if channel == "sms":
        return mask_phone(recipient)
    local, _, domain = recipient.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def purge_messages(now: dt.datetime) -> int:
    """Mask the recipients and remove the texts of sent and failed messages past the
    retention period. A second run changes nothing. Returns how many."""
    limit = cutoff("OUTBOX_RETENTION_DAYS", now)
    purged = 0
    while True:
        rows = db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient)
            .where(
                OutboxMessage.status.in_(("sent", "failed")),
                OutboxMessage.created_at < limit,
                OutboxMessage.purged_at.is_(None),
            )
            .order_by(OutboxMessage.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        table = OutboxMessage.__table__
        db.session.execute(
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values(recipient=sa.bindparam("masked"), body="", sms_params="{}", purged_at=now),
            [{"row_id": r.id, "masked": masked_recipient(r.channel, r.recipient)} for r in rows],
        )
        purged += len(rows)
    if purged:
        record(
            "outbox.purge",
            object_type="outbox_message",
            summary=_l(
                "%(num)s messages' recipients and texts removed after retention", num=purged
            ),
            at=now,
        )
    return purged
