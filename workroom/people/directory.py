"""Create and change deputies, professional groups and agencies.

Deputies, groups and agencies are deactivated, never deleted: history points to them.
A deputy's unavailable period may be removed; the audit log keeps what it was.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from workroom.audit.log import record, set_active
from workroom.db import db
from workroom.errors import DomainError
from workroom.people.models import (
    DEPUTY_LEVELS,
    Agency,
    Deputy,
    ProfessionalGroup,
    Unavailability,
)
from workroom.places.models import Area, Workroom
from workroom.privacy import normalize_phone
from workroom.text import check_text

_CODE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
MONTHLY_CAP_RANGE = (1, 31)
REASON_MAX = 200


def _clean_code(code: str, model: type, example: str) -> str:
    code = (code or "").strip().lower()
    if not _CODE.match(code):
        raise DomainError(
            _l("Use lower-case letters, digits and dashes, such as %(example)s.", example=example),
            "code",
        )
    if db.session.scalar(sa.select(model.id).where(model.code == code)) is not None:
        raise DomainError(_l("This code is already in use."), "code")
    return code


def _text(value: str, field: str, limit: int, *, multiline: bool = False) -> str:
    value = check_text(value or "", field, multiline=multiline)
    if len(value) > limit:
        raise DomainError(_l("Use at most %(n)s characters.", n=limit), field)
    return value


def _require_name(name: str, limit: int) -> str:
    name = _text(name, "name", limit)
    if not name:
        raise DomainError(_l("Enter a name."), "name")
    return name


def _clean_phone(phone: str, field: str) -> str:
    return normalize_phone(phone, field) if phone else ""


def _clean_email(email: str, field: str = "email") -> str:
    """The address as typed (trimmed), or "" — raises DomainError when malformed."""
    email = _text(email, field, 120)
    if not email:
        return ""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(_l("Enter an email address such as name@example.com."), field) from None
    return email


# Professional groups


def create_group(*, code: str, name: str) -> ProfessionalGroup:
    """Create a professional group. Raises DomainError for a malformed or taken code."""
    name = _require_name(name, 100)
    code = _clean_code(code, ProfessionalGroup, "environment")
    group = ProfessionalGroup(code=code, name=name, active=True)
    db.session.add(group)
    db.session.flush()
    record("group.create", group, summary=f"{name} ({code})")
    return group


def update_group(group: ProfessionalGroup, *, name: str, active: bool) -> None:
    """Rename or (de)activate a group; its code never changes."""
    group.name = _require_name(name, 100)
    set_active(group, active, "group")
    record("group.update", group, summary=group.name)


# Deputies


def deputy_fields(
    *,
    name: str,
    level: str,
    term: str,
    constituency: str,
    sector: str,
    phone: str,
    email: str,
    monthly_cap: int | None,
) -> dict[str, Any]:
    if level not in DEPUTY_LEVELS:
        raise DomainError(_l("Choose a level."), "level")
    if monthly_cap is not None and not (
        MONTHLY_CAP_RANGE[0] <= monthly_cap <= MONTHLY_CAP_RANGE[1]
    ):
        raise DomainError(
            _l("Enter a number from 1 to 31, or leave it empty for no limit."), "monthly_cap"
        )
    return {
        "name": _require_name(name, 50),
        "level": level,
        "term": _text(term, "term", 30),
        "constituency": _text(constituency, "constituency", 100),
        "sector": _text(sector, "sector", 100),
        "phone": _clean_phone(phone, "phone"),
        "email": _clean_email(email),
        "monthly_cap": monthly_cap,
    }


def create_deputy(
    *,
    name: str,
    level: str,
    term: str = "",
    constituency: str = "",
    sector: str = "",
    phone: str = "",
    email: str = "",
    monthly_cap: int | None = None,
    groups: list[ProfessionalGroup] | None = None,
    workrooms: list[Workroom] | None = None,
) -> Deputy:
    """Create a deputy attached to ``workrooms`` and ``groups``.

    Raises DomainError for a missing name, an unknown level, a malformed phone or email,
    or a monthly cap outside 1..31.
    """
    fields = deputy_fields(
        name=name,
        level=level,
        term=term,
        constituency=constituency,
        sector=sector,
        phone=phone,
        email=email,
        monthly_cap=monthly_cap,
    )
    deputy = Deputy(
        **fields, groups=list(groups or []), workrooms=list(workrooms or []), active=True
    )
    db.session.add(deputy)
    db.session.flush()
    record("deputy.create", deputy, summary=deputy.name)
    return deputy


def update_deputy(
    deputy: Deputy,
    *,
    name: str,
    level: str,
    term: str,
    constituency: str,
    sector: str,
    phone: str,
    email: str,
    monthly_cap: int | None,
    groups: list[ProfessionalGroup],
    workrooms: list[Workroom],
    active: bool,
) -> None:
    """Change a deputy's facts, groups and workrooms; same errors as ``create_deputy``."""
    fields = deputy_fields(
        name=name,
        level=level,
        term=term,
        constituency=constituency,
        sector=sector,
        phone=phone,
        email=email,
        monthly_cap=monthly_cap,
    )
    for key, value in fields.items():
        setattr(deputy, key, value)
    deputy.groups = list(groups)
    deputy.workrooms = list(workrooms)
    set_active(deputy, active, "deputy")
    record("deputy.update", deputy, summary=deputy.name)


def add_unavailability(
    deputy: Deputy, *, starts_on: dt.date | None, ends_on: dt.date | None, reason: str = ""
) -> Unavailability:
    """Record a period (both days included) in which the deputy cannot receive citizens.

    Raises DomainError when a day is missing, the period ends before it starts, or the
    reason is longer than 200 characters.
    """
    if starts_on is None:
        raise DomainError(_l("Enter the first day."), "starts_on")
    if ends_on is None:
        raise DomainError(_l("Enter the last day."), "ends_on")
    if ends_on < starts_on:
        raise DomainError(_l("The last day cannot be before the first day."), "ends_on")
    reason = _text(reason, "reason", REASON_MAX, multiline=True)
    period = Unavailability(deputy=deputy, starts_on=starts_on, ends_on=ends_on, reason=reason)
    db.session.add(period)
    db.session.flush()
    record(
        "unavailability.create",
        period,
        summary=f"{deputy.name}: {starts_on.isoformat()} – {ends_on.isoformat()}",
    )
    return period


def remove_unavailability(period: Unavailability) -> None:
    """Delete an unavailable period; the audit log keeps its dates."""
    record(
        "unavailability.delete",
        period,
        summary=(
            f"{period.deputy.name}: {period.starts_on.isoformat()} – {period.ends_on.isoformat()}"
        ),
    )
    period.deputy.unavailable.remove(period)
    db.session.flush()


# Agencies


def _check_supervisor(agency: Agency | None, supervisor: Agency | None) -> None:
    if supervisor is None or agency is None:
        return
    if supervisor.id == agency.id:
        raise DomainError(_l("An agency cannot supervise itself."), "supervisor_id")
    node: Agency | None = supervisor
    seen: set[int] = set()
    while node is not None and node.id not in seen:
        if node.id == agency.id:
            raise DomainError(
                _l("This agency already supervises that one, directly or indirectly."),
                "supervisor_id",
            )
        seen.add(node.id)
        node = node.supervisor


def _agency_fields(
    *, name: str, contact_name: str, contact_phone: str, email: str
) -> dict[str, Any]:
    return {
        "name": _require_name(name, 100),
        "contact_name": _text(contact_name, "contact_name", 50),
        "contact_phone": _clean_phone(contact_phone, "contact_phone"),
        "email": _clean_email(email),
    }


def create_agency(
    *,
    code: str,
    name: str,
    area: Area | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    email: str = "",
    supervisor: Agency | None = None,
) -> Agency:
    """Create an agency. The code is lower-case letters, digits and dashes, and unique.

    Raises DomainError for a missing name, a malformed or taken code, or a malformed
    phone or email.
    """
    fields = _agency_fields(
        name=name, contact_name=contact_name, contact_phone=contact_phone, email=email
    )
    code = _clean_code(code, Agency, "yt-health")
    agency = Agency(code=code, area=area, supervisor=supervisor, active=True, **fields)
    db.session.add(agency)
    db.session.flush()
    record("agency.create", agency, summary=f"{agency.name} ({code})")
    return agency


def update_agency(
    agency: Agency,
    *,
    name: str,
    area: Area | None,
    contact_name: str,
    contact_phone: str,
    email: str,
    supervisor: Agency | None,
    active: bool,
) -> None:
    """Change an agency; its code never changes.

    Raises DomainError as ``create_agency`` does, and when the supervisor is the agency
    itself or one it supervises (a cycle).
    """
    fields = _agency_fields(
        name=name, contact_name=contact_name, contact_phone=contact_phone, email=email
    )
    _check_supervisor(agency, supervisor)
    for key, value in fields.items():
        setattr(agency, key, value)
    agency.area = area
    agency.supervisor = supervisor
    set_active(agency, active, "agency")
    record("agency.update", agency, summary=agency.name)
