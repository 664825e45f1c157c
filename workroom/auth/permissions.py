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
    # Confirm, decline and ask to swap one's own reception days.
    "schedule.respond": {"deputy": OWN},
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
    "settings.view": {"admin": ALL},
}


def scope_for(user: Any, permission: str) -> str | None:
    """ALL, OWN or None for this user and permission."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return None
    return PERMISSIONS[permission].get(user.role or "")


def allowed(permission: str, user: Any = None) -> bool:
    return scope_for(user if user is not None else current_user, permission) is not None


# How OWN narrows each model; a model missing here has no OWN scope. Each area
# registers its models' filters with ``own_filter`` (places: workrooms; people:
# deputies and agencies; schedule, visits, suggestions: theirs).
OWN_FILTERS: dict[type, Callable[[Any], sa.ColumnElement[bool]]] = {}

# How a role's own workrooms are found: a liaison runs those of its account; the
# people area registers the deputy's (the workrooms it is attached to).
WORKROOM_SCOPES: dict[str, Callable[[Any], sa.Select | list[int]]] = {
    "liaison": lambda user: [w.id for w in user.workrooms],
}


def own_filter(model: type) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register how OWN narrows ``model`` (a function of the user returning a clause)."""

    def register(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        OWN_FILTERS[model] = function
        return function

    return register


def workroom_scope(role: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register how a user of ``role`` finds its own workrooms (ids or a select of them)."""

    def register(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        WORKROOM_SCOPES[role] = function
        return function

    return register


def own_workroom_ids(user: Any) -> sa.Select | list[int]:
    """The workrooms in the user's own scope: a liaison's, or those a deputy attends."""
    find = WORKROOM_SCOPES.get(user.role or "")
    return find(user) if find is not None else []


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
