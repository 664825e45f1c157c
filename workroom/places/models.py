"""Areas of the administrative tree and the workrooms in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workroom.auth.permissions import own_filter, own_workroom_ids
from workroom.db import Timestamped, db

# Levels of the area tree, from the top; a child is always one level below its parent.
AREA_LEVELS = {
    "city": _l("City"),
    "district": _l("District / county"),
    "street": _l("Street / township"),
    "community": _l("Community / village"),
}
AREA_LEVEL_ORDER = list(AREA_LEVELS)


class Area(Timestamped, db.Model):
    __tablename__ = "area"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(sa.String(20))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("area.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Area | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent", order_by="Area.name")

    __table_args__ = (sa.UniqueConstraint("parent_id", "name"),)

    @property
    def level_label(self) -> str:
        return str(AREA_LEVELS.get(self.level, self.level))

    def path(self) -> list[Area]:
        """This area and its ancestors, from the top of the tree."""
        chain: list[Area] = []
        node: Area | None = self
        while node is not None and len(chain) < len(AREA_LEVEL_ORDER) + 1:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    @property
    def full_name(self) -> str:
        return " / ".join(a.name for a in self.path())

    def __str__(self) -> str:
        return self.name


def area_subtree_ids(area_id: int) -> sa.Select:
    """The ids of area ``area_id`` and of every area below it, for ``column.in_(...)``.

    One recursive query on SQLite and PostgreSQL; UNION (not UNION ALL) ends the walk
    even on a tree that loops.
    """
    tree = sa.select(Area.id).where(Area.id == area_id).cte("area_subtree", recursive=True)
    tree = tree.union(sa.select(Area.id).where(Area.parent_id == tree.c.id))
    return sa.select(tree.c.id)


class Workroom(Timestamped, db.Model):
    __tablename__ = "workroom"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # Printed on posters and QR codes: never changes once created.
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), index=True)
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    # Liaison opening hours on working days, e.g. "09:00-12:00,14:30-17:30".
    liaison_hours: Mapped[str] = mapped_column(sa.String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)

    area: Mapped[Area] = relationship()

    def hour_ranges(self) -> list[tuple[dt.time, dt.time]]:
        from workroom.places.hours import parse_hours

        return parse_hours(self.liaison_hours)

    def __str__(self) -> str:
        return self.name


@own_filter(Workroom)
def _own_workrooms(user: Any) -> sa.ColumnElement[bool]:
    return Workroom.id.in_(own_workroom_ids(user))
