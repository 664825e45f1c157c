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

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def object_label(self) -> str:
        return object_label(self.object_type)
