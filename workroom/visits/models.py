"""Citizens' visits: check-ins with tickets, messages, staff records, kiosks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workroom.auth.permissions import own_filter, own_workroom_ids
from workroom.categories.models import Category
from workroom.db import Timestamped, db
from workroom.people.models import Deputy
from workroom.places.models import Workroom

# How a visit reached the workroom.
CHANNELS = {
    "kiosk": _l("Kiosk"),
    "phone": _l("Own phone (QR code)"),
    "staff": _l("Logged by staff"),
    "walk_in": _l("Walk-in"),
    "call": _l("Phone call"),
    "letter": _l("Letter"),
    "message": _l("Message left"),
}
# What kind of record: a queued check-in with a ticket, a message left outside
# reception hours (留言), or a record a liaison logged afterwards.
KINDS = {
    "checkin": _l("Check-in"),
    "message": _l("Message"),
    "record": lazy_pgettext("visit kind", "Record"),
}
STATUSES = {
    "waiting": _l("Waiting"),
    "called": _l("Called"),
    "in_progress": _l("Being received"),
    "done": _l("Finished"),
    "no_show": _l("Did not come"),
    "open": _l("Open"),
}
OUTCOMES = {
    "answered": _l("Answered on the spot"),
    "suggestion": _l("Suggestion to be raised"),
    "referred": _l("Referred"),
    "none": _l("No further action"),
}


class Kiosk(Timestamped, db.Model):
    """A tablet paired to one workroom; it may only check people in and show tickets."""

    __tablename__ = "kiosk"

    id: Mapped[int] = mapped_column(primary_key=True)
    workroom_id: Mapped[int] = mapped_column(sa.ForeignKey("workroom.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    # Provisional tickets issued offline carry this prefix, e.g. "K2".
    prefix: Mapped[str] = mapped_column(sa.String(8), unique=True)
    # The one-time pairing code, hashed; cleared once used.
    pairing_code_hash: Mapped[str | None] = mapped_column(sa.String(128))
    pairing_expires_at: Mapped[dt.datetime | None] = mapped_column()
    paired_at: Mapped[dt.datetime | None] = mapped_column()
    # Raised on every pairing and revocation, so old device credentials stop working.
    credential_version: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    last_seen_at: Mapped[dt.datetime | None] = mapped_column()

    workroom: Mapped[Workroom] = relationship()


class TicketCounter(db.Model):
    """The last ticket number given at a workroom on a day (local date)."""

    __tablename__ = "ticket_counter"

    workroom_id: Mapped[int] = mapped_column(sa.ForeignKey("workroom.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Visit(Timestamped, db.Model):
    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    workroom_id: Mapped[int] = mapped_column(sa.ForeignKey("workroom.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(20))
    kind: Mapped[str] = mapped_column(sa.String(20), default="checkin")
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"), index=True)
    # Personal data: removed by the retention job (purged_at set), statistics kept.
    visitor_name: Mapped[str | None] = mapped_column(sa.String(50))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    # Keyed hash of the phone number: links repeat visits without the raw number.
    phone_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    wants_reply: Mapped[bool] = mapped_column(default=False)
    # The local date the ticket belongs to, its number, and the label shown ("012",
    # or a kiosk's provisional "K2-003"); see workroom.visits.checkin.
    ticket_date: Mapped[dt.date | None] = mapped_column(index=True)
    ticket_number: Mapped[int | None] = mapped_column()
    ticket_label: Mapped[str | None] = mapped_column(sa.String(20))
    # What the citizen keeps to follow up later (/track).
    receipt_code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    # A hash of the check-in body, so a reused key with another body answers 409.
    request_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    consent_version: Mapped[str | None] = mapped_column(sa.String(20))
    consented_at: Mapped[dt.datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(20), default="waiting", index=True)
    arrived_at: Mapped[dt.datetime] = mapped_column()
    called_at: Mapped[dt.datetime | None] = mapped_column()
    call_count: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    # Who receives the visitor: a deputy on duty, or the liaison (both None: not yet).
    deputy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deputy.id"), index=True)
    to_liaison: Mapped[bool] = mapped_column(default=False)
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    reception_day_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reception_day.id"), index=True
    )
    kiosk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("kiosk.id"))
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
    purged_at: Mapped[dt.datetime | None] = mapped_column()

    # Read-only: a visit's links are written by id (``deputy_id`` …), which keeps the
    # unit of work of every check-in's insert to the visit row alone.
    workroom: Mapped[Workroom] = relationship(viewonly=True)
    category: Mapped[Category | None] = relationship(viewonly=True)
    deputy: Mapped[Deputy | None] = relationship(viewonly=True)
    kiosk: Mapped[Kiosk | None] = relationship(viewonly=True)

    __table_args__ = (
        sa.UniqueConstraint("workroom_id", "ticket_date", "ticket_number"),
        # A day's queue: counting who waits ahead of a ticket reads this index alone.
        sa.Index("ix_visit_queue", "workroom_id", "ticket_date", "status", "ticket_number"),
    )


class DutyAttendance(db.Model):
    """A deputy signing in on arrival for a reception day (for the duty record)."""

    __tablename__ = "duty_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    reception_day_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reception_day.id", ondelete="CASCADE"), index=True
    )
    deputy_id: Mapped[int] = mapped_column(sa.ForeignKey("deputy.id"), index=True)
    signed_in_at: Mapped[dt.datetime] = mapped_column()

    deputy: Mapped[Deputy] = relationship()

    __table_args__ = (sa.UniqueConstraint("reception_day_id", "deputy_id"),)


@own_filter(Visit)
def _own_visits(user: Any) -> sa.ColumnElement[bool]:
    return Visit.workroom_id.in_(own_workroom_ids(user))
