"""Who may do what, and on which objects. The README shows this same table.

Each permission maps a role to a scope: ``ALL`` objects, or only its ``OWN``:
- liaison: the workrooms it runs, and the deputies attached to them;
- deputy: its own record, and the workrooms it is attached to;
- agency_handler: its own agency.
A role missing from a permission has no access. Objects outside the scope answer
404, never 403, so their existence does not leak.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_babel import lazy_gettext as _l
from flask_security import current_user

from workroom.db import db
from workroom.people.models import Agency, Deputy, deputy_workroom
from workroom.places.models import Workroom

ALL = "all"
OWN = "own"

ROLES = {
    "admin": _l("Administrator"),
    "viewer": _l("Viewer (read-only)"),
    "liaison": _l("Liaison"),
    "deputy": _l("Deputy"),
    "agency_handler": _l("Agency handler"),
}

_READ_ALL = {"admin": ALL, "viewer": ALL}

PERMISSIONS: dict[str, dict[str, str]] = {
    "area.view": {**_READ_ALL, "liaison": ALL, "deputy": ALL},
    "area.manage": {"admin": ALL},
    "workroom.view": {**_READ_ALL, "liaison": OWN, "deputy": OWN},
    "workroom.manage": {"admin": ALL},
    "deputy.view": {**_READ_ALL, "liaison": OWN, "deputy": OWN},
    "deputy.manage": {"admin": ALL},
    "group.view": {**_READ_ALL, "liaison": ALL, "deputy": ALL},
    "group.manage": {"admin": ALL},
    "agency.view": {**_READ_ALL, "liaison": ALL, "deputy": ALL, "agency_handler": OWN},
    "agency.manage": {"admin": ALL},
    "category.view": {**_READ_ALL, "liaison": ALL, "deputy": ALL, "agency_handler": ALL},
    "category.manage": {"admin": ALL},
    "schedule.view": {**_READ_ALL, "liaison": OWN, "deputy": OWN},
    "schedule.manage": {"admin": ALL, "liaison": OWN},
    "kiosk.manage": {"admin": ALL},
    "visit.view": {**_READ_ALL, "liaison": OWN, "deputy": OWN},
    "visit.manage": {"admin": ALL, "liaison": OWN, "deputy": OWN},
    # See a visitor's full phone number (each reveal is audited).
    "visit.reveal": {"admin": ALL, "liaison": OWN},
    "suggestion.view": {**_READ_ALL, "liaison": OWN, "deputy": OWN, "agency_handler": OWN},
    "suggestion.manage": {"admin": ALL, "liaison": OWN},
    "suggestion.raise": {"admin": ALL, "liaison": OWN, "deputy": OWN},
    "suggestion.handle": {"agency_handler": OWN},
    "routing.view": {**_READ_ALL, "liaison": ALL},
    "routing.manage": {"admin": ALL},
    "calendar.view": {**_READ_ALL, "liaison": ALL, "deputy": ALL},
    "calendar.manage": {"admin": ALL},
    "outbox.manage": {"admin": ALL},
    "user.manage": {"admin": ALL},
    "audit.view": {"admin": ALL},
}


def scope_for(user: Any, permission: str) -> str | None:
    """ALL, OWN or None for this user and permission."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return None
    return PERMISSIONS[permission].get(user.role or "")


def allowed(permission: str, user: Any = None) -> bool:
    return scope_for(user if user is not None else current_user, permission) is not None


def _own_workrooms(user: Any) -> sa.ColumnElement[bool]:
    return Workroom.id.in_(own_workroom_ids(user))


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


def _own_agencies(user: Any) -> sa.ColumnElement[bool]:
    if user.role == "agency_handler" and user.agency_id:
        return Agency.id == user.agency_id
    return sa.false()


# How OWN narrows each model; a model missing here has no OWN scope. Areas above
# the foundation add theirs with ``own_filter``.
OWN_FILTERS: dict[type, Callable[[Any], sa.ColumnElement[bool]]] = {
    Workroom: _own_workrooms,
    Deputy: _own_deputies,
    Agency: _own_agencies,
}


def own_filter(model: type) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register how OWN narrows ``model`` (a function of the user returning a clause)."""

    def register(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        OWN_FILTERS[model] = function
        return function

    return register


def own_workroom_ids(user: Any) -> sa.Select | list[int]:
    """The workrooms in the user's own scope: a liaison's, or those a deputy attends."""
    if user.role == "liaison":
        return [w.id for w in user.workrooms]
    if user.role == "deputy" and user.deputy_id:
        return sa.select(deputy_workroom.c.workroom_id).where(
            deputy_workroom.c.deputy_id == user.deputy_id
        )
    return []


def scoped(stmt: sa.Select, model: type, permission: str, user: Any = None) -> sa.Select:
    """Narrow a select of ``model`` to what the user may see; nothing if no access."""
    user = user if user is not None else current_user
    scope = scope_for(user, permission)
    if scope == ALL:
        return stmt
    if scope == OWN and model in OWN_FILTERS:
        return stmt.where(OWN_FILTERS[model](user))
    return stmt.where(sa.false())


def require(permission: str) -> None:
    """Abort 403 unless the current user holds ``permission`` in some scope.

    For pages that take no object id (lists, create forms).
    """
    if not allowed(permission):
        abort(403)


def get_or_404(model: type, object_id: Any, permission: str, user: Any = None) -> Any:
    """Load one object the user may act on, or answer 404 (also when out of scope)."""
    stmt = scoped(sa.select(model).where(model.id == object_id), model, permission, user)
    obj = db.session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj
