"""Staff accounts: create, change role and scope, reset password, lockout."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_security import hash_password

from workroom.audit.log import record
from workroom.auth.models import Role, User
from workroom.auth.permissions import ROLES
from workroom.db import db, increment, lock
from workroom.errors import DomainError

if TYPE_CHECKING:
    from workroom.people.models import Agency, Deputy
    from workroom.places.models import Workroom

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,60}$")


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _role(name: str) -> Role:
    if name not in ROLES:
        raise DomainError(_l("Choose one of the roles."), "role")
    role = db.session.scalar(sa.select(Role).where(Role.name == name))
    if role is None:
        role = Role(name=name, description=str(ROLES[name]))
        db.session.add(role)
    return role


def _check_scope(
    role: str, workrooms: list[Workroom], agency: Agency | None, deputy: Deputy | None
) -> None:
    if role == "liaison" and not workrooms:
        raise DomainError(_l("A liaison needs at least one workroom."), "workroom_ids")
    if role == "agency_handler" and agency is None:
        raise DomainError(_l("An agency handler needs an agency."), "agency")
    if role == "deputy" and deputy is None:
        raise DomainError(_l("A deputy account needs the deputy it belongs to."), "deputy")


def find_user(username: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.username) == username.strip().lower())
    )


def create_user(
    username: str,
    role: str,
    *,
    password: str | None = None,
    display_name: str = "",
    workrooms: list[Workroom] | None = None,
    agency: Agency | None = None,
    deputy: Deputy | None = None,
    must_change_password: bool = False,
) -> tuple[User, str]:
    """Create an account and return it with its password (generated when not given).

    Raises DomainError for a malformed or taken username, an unknown role, or a
    role without its scope (a liaison's workrooms, a handler's agency, a deputy).
    """
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise DomainError(
            _l("Use 3 to 60 letters, digits, dots, dashes or underscores."), "username"
        )
    if find_user(username) is not None:
        raise DomainError(_l("This username is taken."), "username")
    workrooms = workrooms or []
    _check_scope(role, workrooms, agency, deputy)
    password = password or generate_password()
    user = User(
        username=username,
        display_name=display_name.strip(),
        password=hash_password(password),
        active=True,
        fs_uniquifier=secrets.token_hex(32),
        roles=[_role(role)],
        workrooms=workrooms if role == "liaison" else [],
        agency=agency if role == "agency_handler" else None,
        deputy=deputy if role == "deputy" else None,
        password_change_required=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    record("user.create", user, summary=f"{username} ({role})")
    return user, password


def update_user(
    user: User,
    *,
    role: str,
    display_name: str,
    active: bool,
    workrooms: list[Workroom],
    agency: Agency | None,
    deputy: Deputy | None,
    actor: Any = None,
) -> None:
    """Change an account's role, scope and status; role changes are audited."""
    lock(user)
    _check_scope(role, workrooms, agency, deputy)
    if actor is not None and actor.id == user.id and (role != "admin" or not active):
        raise DomainError(_l("You cannot remove your own administrator access."), "role")
    old_role = user.role
    user.roles = [_role(role)]
    user.display_name = display_name.strip()
    user.workrooms = workrooms if role == "liaison" else []
    user.agency = agency if role == "agency_handler" else None
    user.deputy = deputy if role == "deputy" else None
    if user.active != active:
        user.active = active
        # A deactivated account loses its sessions at once.
        user.fs_uniquifier = secrets.token_hex(32)
        record("user.activate" if active else "user.deactivate", user, summary=user.username)
    if old_role != role:
        record("user.role_change", user, summary=f"{user.username}: {old_role} → {role}")
    record("user.update", user, summary=user.username)


def reset_password(user: User) -> str:
    """Give the account a new random password that must be changed at next sign-in."""
    password = generate_password()
    user.password = hash_password(password)
    user.password_change_required = True
    user.failed_logins = 0
    user.locked_until = None
    user.fs_uniquifier = secrets.token_hex(32)
    record("user.password_reset", user, summary=user.username)
    return password


def account_locked(user: User, now: dt.datetime, form_error: list[str] | None = None) -> bool:
    """Whether too many failed sign-ins have locked the account for now."""
    if user.locked_until is None or user.locked_until <= now:
        return False
    if form_error is not None:
        form_error.append(str(_l("Too many failed sign-ins. Try again later.")))
    return True


def note_failed_login(user: User, now: dt.datetime) -> None:
    # Counted in the database: failures sent at once are all counted.
    if increment(user, "failed_logins") >= current_app.config["LOGIN_LOCKOUT_FAILURES"]:
        user.locked_until = now + dt.timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        user.failed_logins = 0
        record("user.locked", user, summary=user.username, actor=user)


def note_successful_login(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
