"""Reception rules, the reception days they produce, and who is on duty."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workroom.auth.permissions import own_filter, own_workroom_ids
from workroom.db import Timestamped, db
from workroom.errors import DomainError
from workroom.people.models import Deputy
from workroom.places.models import Workroom
from workroom.schedule.roster import Explanation, explain
from workroom.schedule.rules import describe_rule

NON_WORKING_DAY_POLICIES = {
    "skip": _l("Skip the day"),
    "next_working_day": _l("Move to the next working day"),
}

DAY_STATUSES = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "cancelled": _l("Cancelled"),
}

ASSIGNMENT_STATUSES = {
    "assigned": _l("Assigned"),
    "confirmed": _l("Confirmed"),
    "declined": _l("Declined"),
}

MAX_DEPUTIES_PER_DAY = 10


class ReceptionRule(Timestamped, db.Model):
    """When a workroom holds reception days: a recurrence, a time window, how many deputies.

    ``rrule`` holds the RFC 5545 text of the supported subset (see
    :func:`workroom.schedule.rules.parse_rrule`); times are local to the configured zone.
    """

    __tablename__ = "reception_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    workroom_id: Mapped[int] = mapped_column(sa.ForeignKey("workroom.id"), index=True)
    rrule: Mapped[str] = mapped_column(sa.String(200))
    starts_at_time: Mapped[dt.time] = mapped_column()
    ends_at_time: Mapped[dt.time] = mapped_column()
    deputies_needed: Mapped[int] = mapped_column(default=1)
    # Visitors one reception day can receive.
    capacity: Mapped[int] = mapped_column(default=20)
    valid_from: Mapped[dt.date] = mapped_column()
    valid_until: Mapped[dt.date | None] = mapped_column()
    on_non_working_day: Mapped[str] = mapped_column(sa.String(20), default="skip")
    active: Mapped[bool] = mapped_column(default=True)

    workroom: Mapped[Workroom] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            f"deputies_needed >= 1 AND deputies_needed <= {MAX_DEPUTIES_PER_DAY}",
            name="deputies_needed_range",
        ),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("ends_at_time > starts_at_time", name="time_order"),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from", name="validity_order"
        ),
        sa.CheckConstraint(
            "on_non_working_day IN ('skip', 'next_working_day')", name="non_working_day_policy"
        ),
    )

    def describe(self, locale: str = "zh_Hans_CN") -> str:
        """The rule in plain words, e.g. "every 2nd and 4th Wednesday, 09:00–11:30, 2 deputies"."""
        return describe_rule(
            self.rrule, self.starts_at_time, self.ends_at_time, self.deputies_needed, locale
        )

    @property
    def policy_label(self) -> str:
        return str(NON_WORKING_DAY_POLICIES.get(self.on_non_working_day, self.on_non_working_day))

    def __str__(self) -> str:
        try:
            return self.describe()
        except DomainError:
            return self.rrule


class ReceptionDay(Timestamped, db.Model):
    """One reception at a workroom: a day and a time window, with its deputies.

    ``starts_at``/``ends_at`` are naive UTC; ``day`` is the local date. ``unfilled`` holds
    the solver's explanation (see :class:`workroom.schedule.roster.Explanation`) when
    fewer deputies than needed were assigned, else None.
    """

    __tablename__ = "reception_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    workroom_id: Mapped[int] = mapped_column(sa.ForeignKey("workroom.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reception_rule.id", ondelete="SET NULL"), index=True
    )
    day: Mapped[dt.date] = mapped_column(index=True)
    starts_at: Mapped[dt.datetime] = mapped_column()
    ends_at: Mapped[dt.datetime] = mapped_column()
    deputies_needed: Mapped[int] = mapped_column(default=1)
    capacity: Mapped[int] = mapped_column(default=20)
    status: Mapped[str] = mapped_column(sa.String(20), default="draft", index=True)
    # Raised on every change after publication, so calendar clients replace their copy.
    sequence: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    published_at: Mapped[dt.datetime | None] = mapped_column()
    unfilled: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    workroom: Mapped[Workroom] = relationship()
    rule: Mapped[ReceptionRule | None] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="reception_day",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Assignment.id",
    )

    __table_args__ = (
        sa.UniqueConstraint("workroom_id", "day", "starts_at"),
        sa.CheckConstraint("ends_at > starts_at", name="time_order"),
        sa.CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status_known"),
    )

    @property
    def status_label(self) -> str:
        return str(DAY_STATUSES.get(self.status, self.status))

    @property
    def active_assignments(self) -> list[Assignment]:
        return [a for a in self.assignments if a.status != "declined"]

    def unfilled_explanation(self) -> Explanation | None:
        """The stored solver explanation, or None when the day is full."""
        return Explanation.from_dict(self.unfilled) if self.unfilled else None

    def unfilled_text(self, locale: str = "zh_Hans_CN") -> str:
        """Why places are empty, in words ("" when the day is full)."""
        explanation = self.unfilled_explanation()
        return explain(explanation, locale) if explanation else ""


class Assignment(Timestamped, db.Model):
    """A deputy on duty at a reception day."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    reception_day_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reception_day.id", ondelete="CASCADE"), index=True
    )
    deputy_id: Mapped[int] = mapped_column(sa.ForeignKey("deputy.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="assigned")
    confirmed_at: Mapped[dt.datetime | None] = mapped_column()

    reception_day: Mapped[ReceptionDay] = relationship(back_populates="assignments")
    deputy: Mapped[Deputy] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("reception_day_id", "deputy_id"),
        sa.CheckConstraint("status IN ('assigned', 'confirmed', 'declined')", name="status_known"),
    )

    @property
    def status_label(self) -> str:
        return str(ASSIGNMENT_STATUSES.get(self.status, self.status))


@own_filter(ReceptionRule)
def _own_rules(user: Any) -> sa.ColumnElement[bool]:
    return ReceptionRule.workroom_id.in_(own_workroom_ids(user))


@own_filter(ReceptionDay)
def _own_days(user: Any) -> sa.ColumnElement[bool]:
    return ReceptionDay.workroom_id.in_(own_workroom_ids(user))


# Swaps after publication


SWAP_STATUSES = {
    "pending": _l("Waiting for the liaison"),
    "approved": _l("Approved"),
    "refused": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
}


class SwapRequest(Timestamped, db.Model):
    """A deputy's request to hand a published reception day to someone else.

    The liaison approves it with a substitute or refuses it; a request whose day is
    cancelled, or whose deputy is taken off the day, is withdrawn.
    """

    __tablename__ = "swap_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    workroom_id: Mapped[int] = mapped_column(sa.ForeignKey("workroom.id"), index=True)
    reception_day_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reception_day.id", ondelete="CASCADE"), index=True
    )
    deputy_id: Mapped[int] = mapped_column(sa.ForeignKey("deputy.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="pending", index=True)
    requested_at: Mapped[dt.datetime] = mapped_column()
    substitute_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deputy.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decision_note: Mapped[str] = mapped_column(sa.String(200), default="")

    workroom: Mapped[Workroom] = relationship()
    reception_day: Mapped[ReceptionDay] = relationship()
    deputy: Mapped[Deputy] = relationship(foreign_keys=[deputy_id])
    substitute: Mapped[Deputy | None] = relationship(foreign_keys=[substitute_id])

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused', 'withdrawn')", name="status_known"
        ),
    )

    @property
    def status_label(self) -> str:
        return str(SWAP_STATUSES.get(self.status, self.status))


@own_filter(SwapRequest)
def _own_swaps(user: Any) -> sa.ColumnElement[bool]:
    return SwapRequest.workroom_id.in_(own_workroom_ids(user))


# Calendar feeds


class DeputyFeedToken(db.Model):
    """The secret link of a deputy's private calendar feed.

    Only the SHA-256 of the token is stored: the link is shown once when issued.
    A deputy has at most one live token; issuing a new one revokes the old.
    """

    __tablename__ = "deputy_feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(sa.ForeignKey("deputy.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()

    deputy: Mapped[Deputy] = relationship()

    @property
    def live(self) -> bool:
        return self.revoked_at is None
