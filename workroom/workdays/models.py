"""Tables of the working-day calendar: official adjustments staff enter and the years
whose holiday arrangements are confirmed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from workroom.clock import utcnow
from workroom.db import Timestamped, db

HOLIDAY = "holiday"
WORKDAY = "workday"
ADJUSTMENT_KINDS = {
    HOLIDAY: _l("Holiday (day off)"),
    WORKDAY: _l("Makeup workday"),
}

# Who entered a row: staff from a State Council notice, or the demo data.
SOURCES = {
    "staff": _l("Entered by staff"),
    "demo": _l("Demo data"),
}


class CalendarAdjustment(Timestamped, db.Model):
    """One official change to the ordinary week: a day off or a makeup workday.

    Overrides what the holidays package says about the same day.
    """

    __tablename__ = "calendar_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    # The holiday it belongs to, e.g. 春节.
    name: Mapped[str] = mapped_column(sa.String(60), default="")
    # The notice it comes from, e.g. 国办发明电〔2025〕7号.
    notice: Mapped[str] = mapped_column(sa.String(100), default="")
    source: Mapped[str] = mapped_column(sa.String(10), default="staff")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    __table_args__ = (sa.CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)

    @property
    def kind_label(self) -> str:
        return str(ADJUSTMENT_KINDS.get(self.kind, self.kind))

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.kind} {self.name}".strip()


class ConfirmedYear(db.Model):
    """A year whose holiday arrangements staff have confirmed.

    Years the holidays package carries are confirmed without a row.
    """

    __tablename__ = "confirmed_year"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    source: Mapped[str] = mapped_column(sa.String(10), default="staff")
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    confirmed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def source_label(self) -> str:
        return str(SOURCES.get(self.source, self.source))

    def __str__(self) -> str:
        return str(self.year)
