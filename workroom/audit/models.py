"""The append-only audit log."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from workroom.audit.labels import action_label, object_label
from workroom.clock import utcnow
from workroom.db import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    # The actor's username at the time, so the event reads the same after renames.
    actor_name: Mapped[str] = mapped_column(sa.String(60), default="")
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40), default="")
    object_id: Mapped[str] = mapped_column(sa.String(40), default="")
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    client_address: Mapped[str] = mapped_column(sa.String(64), default="")
    # Its position in the hash chain and its seal, set by the sealing job (None until
    # then): HMAC(previous seal, position, every field above).
    chain_index: Mapped[int | None] = mapped_column(unique=True)
    seal: Mapped[str | None] = mapped_column(sa.String(64))

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def object_label(self) -> str:
        return object_label(self.object_type)


class AuditChain(db.Model):
    """The state of the audit log's hash chain (one row): its anchor, where sealing
    has reached, and the last verification. See ``workroom.audit.chain``."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The position and seal the chain starts from: 0 and "" at first, then the last
    # event the retention purge cut (the purge deletes events, the anchor stays).
    anchor_index: Mapped[int] = mapped_column(default=0)
    anchor_seal: Mapped[str] = mapped_column(sa.String(64), default="")
    anchored_at: Mapped[dt.datetime | None] = mapped_column()
    # The last sealed event: its position, seal, id and time.
    head_index: Mapped[int] = mapped_column(default=0)
    head_seal: Mapped[str] = mapped_column(sa.String(64), default="")
    head_event_id: Mapped[int] = mapped_column(default=0)
    head_at: Mapped[dt.datetime | None] = mapped_column()
    # The last verification.
    checked_at: Mapped[dt.datetime | None] = mapped_column()
    check_ok: Mapped[bool | None] = mapped_column()
    check_count: Mapped[int] = mapped_column(default=0)
    check_summary: Mapped[str] = mapped_column(sa.String(500), default="")
