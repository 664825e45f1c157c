"""Deputies, their professional groups, and the agencies that handle suggestions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workroom.auth.permissions import own_filter, workroom_scope
from workroom.db import Timestamped, db
from workroom.places.models import Area, Workroom

DEPUTY_LEVELS = {
    "national": _l("National"),
    "provincial": _l("Provincial"),
    "municipal": _l("Municipal"),
    "county": _l("County / district"),
    "township": _l("Township / street"),
}

deputy_workroom = sa.Table(
    "deputy_workroom",
    db.metadata,
    sa.Column("deputy_id", sa.ForeignKey("deputy.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("workroom_id", sa.ForeignKey("workroom.id", ondelete="CASCADE"), primary_key=True),
)

deputy_group = sa.Table(
    "deputy_group",
    db.metadata,
    sa.Column("deputy_id", sa.ForeignKey("deputy.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "group_id", sa.ForeignKey("professional_group.id", ondelete="CASCADE"), primary_key=True
    ),
)


class ProfessionalGroup(Timestamped, db.Model):
    """A deputy professional group (代表专业小组), e.g. environment or agriculture."""

    __tablename__ = "professional_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self) -> str:
        return self.name


class Deputy(Timestamped, db.Model):
    __tablename__ = "deputy"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), index=True)
    level: Mapped[str] = mapped_column(sa.String(20))
    term: Mapped[str] = mapped_column(sa.String(30), default="")
    constituency: Mapped[str] = mapped_column(sa.String(100), default="")
    sector: Mapped[str] = mapped_column(sa.String(100), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    email: Mapped[str] = mapped_column(sa.String(120), default="")
    # Most reception days a month; None means no cap.
    monthly_cap: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)

    workrooms: Mapped[list[Workroom]] = relationship(
        secondary=deputy_workroom, order_by="Workroom.name"
    )
    groups: Mapped[list[ProfessionalGroup]] = relationship(
        secondary=deputy_group, order_by="ProfessionalGroup.name"
    )

    unavailable: Mapped[list[Unavailability]] = relationship(
        back_populates="deputy", order_by="Unavailability.starts_on", cascade="all, delete-orphan"
    )

    @property
    def level_label(self) -> str:
        return str(DEPUTY_LEVELS.get(self.level, self.level))

    def __str__(self) -> str:
        return self.name


class Unavailability(Timestamped, db.Model):
    """A period a deputy cannot receive citizens (a congress session, a trip)."""

    __tablename__ = "unavailability"

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deputy.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[dt.date] = mapped_column()
    ends_on: Mapped[dt.date] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(200), default="")

    deputy: Mapped[Deputy] = relationship(back_populates="unavailable")

    __table_args__ = (sa.CheckConstraint("ends_on >= starts_on", name="period_order"),)


class Agency(Timestamped, db.Model):
    """An agency that handles suggestions (承办单位)."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("area.id"), index=True)
    contact_name: Mapped[str] = mapped_column(sa.String(50), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    email: Mapped[str] = mapped_column(sa.String(120), default="")
    supervisor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    area: Mapped[Area | None] = relationship()
    supervisor: Mapped[Agency | None] = relationship(remote_side=[id])

    def __str__(self) -> str:
        return self.name


@workroom_scope("deputy")
def _deputy_workrooms(user: Any) -> sa.Select | list[int]:
    if not user.deputy_id:
        return []
    return sa.select(deputy_workroom.c.workroom_id).where(
        deputy_workroom.c.deputy_id == user.deputy_id
    )


@own_filter(Deputy)
def _own_deputies(user: Any) -> sa.ColumnElement[bool]:
    if user.role == "liaison":
        return Deputy.id.in_(
            sa.select(deputy_workroom.c.deputy_id).where(
                deputy_workroom.c.workroom_id.in_([w.id for w in user.workrooms])
            )
        )
    if user.role == "deputy" and user.deputy_id:
        return Deputy.id == user.deputy_id
    return sa.false()


@own_filter(Agency)
def _own_agencies(user: Any) -> sa.ColumnElement[bool]:
    if user.role == "agency_handler" and user.agency_id:
        return Agency.id == user.agency_id
    return sa.false()
