"""Create and change areas and workrooms. Nothing is ever deleted: history points here."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workroom.audit.log import record, set_active
from workroom.db import db
from workroom.errors import DomainError
from workroom.places.hours import format_hours, parse_hours
from workroom.places.models import AREA_LEVEL_ORDER, AREA_LEVELS, Area, Workroom
from workroom.privacy import normalize_phone

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")


def _check_area_parent(level: str, parent: Area | None, area: Area | None = None) -> None:
    if level not in AREA_LEVEL_ORDER:
        raise DomainError(_l("Choose a level."), "level")
    index = AREA_LEVEL_ORDER.index(level)
    if parent is None:
        if index != 0:
            raise DomainError(_l("Only a city has no parent area."), "parent_id")
        return
    if AREA_LEVEL_ORDER.index(parent.level) != index - 1:
        raise DomainError(
            _l(
                "The parent must be one level above: %(level)s.",
                level=AREA_LEVELS[AREA_LEVEL_ORDER[index - 1]],
            ),
            "parent_id",
        )
    node: Area | None = parent
    while node is not None:
        if area is not None and node.id == area.id:
            raise DomainError(_l("An area cannot sit inside itself."), "parent_id")
        node = node.parent


def _check_area_name(name: str, parent: Area | None, area: Area | None = None) -> None:
    if not name:
        raise DomainError(_l("Enter a name."), "name")
    same_parent = Area.parent_id == parent.id if parent else Area.parent_id.is_(None)
    stmt = sa.select(Area.id).where(Area.name == name, same_parent)
    if area is not None:
        stmt = stmt.where(Area.id != area.id)
    if db.session.scalar(stmt) is not None:
        raise DomainError(_l("This area already has a child with that name."), "name")


def create_area(name: str, level: str, parent: Area | None) -> Area:
    _check_area_parent(level, parent)
    _check_area_name(name, parent)
    area = Area(name=name, level=level, parent=parent, active=True)
    db.session.add(area)
    db.session.flush()
    record("area.create", area, summary=area.full_name)
    return area


def update_area(area: Area, *, name: str, level: str, parent: Area | None, active: bool) -> None:
    _check_area_parent(level, parent, area)
    _check_area_name(name, parent, area)
    area.name, area.level, area.parent = name, level, parent
    set_active(area, active, "area")
    record("area.update", area, summary=area.full_name)


def _check_workroom(name: str, area: Area | None) -> None:
    if not name:
        raise DomainError(_l("Enter a name."), "name")
    if area is None:
        raise DomainError(_l("Choose an area."), "area_id")


def _clean_phone(phone: str) -> str:
    return normalize_phone(phone, "phone") if phone else ""


def create_workroom(
    *,
    name: str,
    slug: str,
    area: Area | None,
    address: str = "",
    phone: str = "",
    liaison_hours: str = "",
) -> Workroom:
    """Create a workroom. The slug is lower-case letters, digits and dashes, and unique."""
    _check_workroom(name, area)
    slug = (slug or "").strip().lower()
    if not _SLUG.match(slug):
        raise DomainError(
            _l("Use lower-case letters, digits and dashes, such as xiasheshi."), "slug"
        )
    if db.session.scalar(sa.select(Workroom.id).where(Workroom.slug == slug)) is not None:
        raise DomainError(_l("Another workroom already uses this address name."), "slug")
    workroom = Workroom(
        name=name,
        slug=slug,
        area=area,
        address=address,
        phone=_clean_phone(phone),
        liaison_hours=format_hours(parse_hours(liaison_hours)),
        active=True,
    )
    db.session.add(workroom)
    db.session.flush()
    record("workroom.create", workroom, summary=f"{name} ({slug})")
    return workroom


def update_workroom(
    workroom: Workroom,
    *,
    name: str,
    area: Area | None,
    address: str,
    phone: str,
    liaison_hours: str,
    active: bool,
) -> None:
    """Change a workroom; its slug never changes (it is printed on posters)."""
    _check_workroom(name, area)
    workroom.name = name
    workroom.area = area  # type: ignore[assignment]
    workroom.address = address
    workroom.phone = _clean_phone(phone)
    workroom.liaison_hours = format_hours(parse_hours(liaison_hours))
    set_active(workroom, active, "workroom")
    record("workroom.update", workroom, summary=name)
