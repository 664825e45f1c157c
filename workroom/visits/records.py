"""Visit records: what was heard and what came of it, visits logged by staff, a visitor's
earlier visits, and showing a full phone number (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from workroom.audit.log import record
from workroom.auth.permissions import scoped
from workroom.db import db
from workroom.errors import DomainError
from workroom.people.models import Deputy
from workroom.places.models import Workroom
from workroom.visits.checkin import log_visit
from workroom.visits.models import OUTCOMES, Visit
from workroom.visits.queue import actor_deputy_id

SUMMARY_LIMIT = 500
NOTES_LIMIT = 10_000
# Channels a liaison logs by hand (check-ins come from the kiosk and phones).
LOGGED_CHANNELS = ("walk_in", "call", "letter", "message")
LIAISON = "liaison"
HISTORY_LIMIT = 20


# Who received the visitor


def receiver_choices(workroom: Workroom) -> list[tuple[str, str]]:
    """The liaison, then the active deputies attached to the workroom."""
    deputies = db.session.scalars(
        sa.select(Deputy)
        .join(Deputy.workrooms)
        .where(Workroom.id == workroom.id, Deputy.active.is_(True))
        .order_by(Deputy.name)
    ).all()
    return [(LIAISON, str(_l("The liaison")))] + [
        (f"deputy:{d.id}", str(_l("Deputy %(name)s", name=d.name))) for d in deputies
    ]


def receiver_value(visit: Visit | None, actor: Any) -> str:
    """The choice that fits the visit, or the acting user when nobody is recorded yet."""
    if visit is not None and visit.deputy_id:
        return f"deputy:{visit.deputy_id}"
    if visit is not None and visit.to_liaison:
        return LIAISON
    own = actor_deputy_id(actor)
    return f"deputy:{own}" if own else LIAISON


def parse_receiver(workroom: Workroom, value: str, field: str = "received_by") -> Deputy | None:
    """The deputy a receiver choice names (None: the liaison); DomainError if unknown."""
    if value == LIAISON:
        return None
    if value.startswith("deputy:") and value[7:].isdigit():
        deputy = db.session.scalar(
            sa.select(Deputy)
            .join(Deputy.workrooms)
            .where(Deputy.id == int(value[7:]), Workroom.id == workroom.id)
        )
        if deputy is not None:
            return deputy
    raise DomainError(_l("Choose who received the visitor."), field)


# The record


def _check_record(summary: str, notes: str, outcome: str | None) -> None:
    if len(summary or "") > SUMMARY_LIMIT:
        raise DomainError(_l("Keep the summary to %(n)s characters.", n=SUMMARY_LIMIT), "summary")
    if len(notes or "") > NOTES_LIMIT:
        raise DomainError(_l("Keep the notes to %(n)s characters.", n=NOTES_LIMIT), "notes")
    if outcome not in OUTCOMES:
        raise DomainError(_l("Choose an outcome."), "outcome")


def save_record(
    visit: Visit,
    *,
    summary: str,
    notes: str,
    outcome: str,
    receiver: Deputy | None,
    actor: Any,
    now: dt.datetime,
) -> Visit:
    """Store what was heard (summary, notes), the outcome and who received the visitor.

    A message left outside reception hours is closed by its record. Raises DomainError
    for an over-long text or an unknown outcome.
    """
    _check_record(summary, notes, outcome)
    visit.summary = summary or ""
    visit.notes = notes or ""
    visit.outcome = outcome
    visit.deputy = receiver
    visit.deputy_id = receiver.id if receiver is not None else None
    visit.to_liaison = receiver is None
    visit.received_by_id = getattr(actor, "id", None) or visit.received_by_id
    if visit.status == "open":
        visit.status = "done"
        visit.ended_at = visit.ended_at or now
    record(
        "visit.record",
        visit,
        summary=_l(
            "%(ticket)s: %(outcome)s",
            ticket=visit.ticket_label or visit.receipt_code,
            outcome=OUTCOMES.get(outcome or "", outcome or "—"),
        ),
        actor=actor,
        at=now,
    )
    return visit


def log_visit_record(
    workroom: Workroom,
    *,
    channel: str,
    category: Any,
    name: str,
    phone: str,
    description: str,
    summary: str,
    notes: str,
    outcome: str,
    receiver: Deputy | None,
    actor: Any,
    now: dt.datetime,
) -> Visit:
    """A walk-in, call, letter or message logged by staff, with its record at once.

    The visit itself is stored by ``checkin.log_visit`` (receipt code, phone normalised
    and hashed); raises DomainError for a bad field.
    """
    if channel not in LOGGED_CHANNELS:
        raise DomainError(_l("Choose how the visitor reached the workroom."), "channel")
    _check_record(summary, notes, outcome)
    visit = log_visit(
        workroom,
        channel=channel,
        category=category,
        name=name,
        phone=phone,
        description=description,
        now=now,
        actor=actor,
    )
    return save_record(
        visit,
        summary=summary,
        notes=notes,
        outcome=outcome,
        receiver=receiver,
        actor=actor,
        now=now,
    )


# Phone numbers


def reveal_phone(visit: Visit, actor: Any, now: dt.datetime) -> str:
    """The visitor's full phone number, for a user allowed to see it; the reveal is
    written to the audit log. Raises DomainError when there is no number (or it was
    purged)."""
    if not visit.phone:
        raise DomainError(_l("There is no phone number to show."))
    record(
        "visit.reveal_phone",
        visit,
        summary=visit.ticket_label or visit.receipt_code,
        actor=actor,
        at=now,
    )
    return visit.phone


def visitor_history(visit: Visit, user: Any, limit: int = HISTORY_LIMIT) -> list[Visit]:
    """The visitor's other visits (same phone number hash) that ``user`` may see,
    newest first."""
    if not visit.phone_hash:
        return []
    stmt = (
        sa.select(Visit)
        .where(Visit.phone_hash == visit.phone_hash, Visit.id != visit.id)
        .options(selectinload(Visit.workroom), selectinload(Visit.category))
        .order_by(Visit.arrived_at.desc(), Visit.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(scoped(stmt, Visit, "visit.view", user)))


def earlier_visit_counts(visits: list[Visit], user: Any) -> dict[int, int]:
    """For each visit with a phone hash: how many earlier visits ``user`` may see share it."""
    hashes = {v.phone_hash for v in visits if v.phone_hash}
    if not hashes:
        return {}
    stmt = scoped(
        sa.select(Visit.id, Visit.phone_hash, Visit.arrived_at).where(Visit.phone_hash.in_(hashes)),
        Visit,
        "visit.view",
        user,
    )
    seen: dict[str, list[tuple[dt.datetime, int]]] = {}
    for row in db.session.execute(stmt):
        seen.setdefault(row.phone_hash, []).append((row.arrived_at, row.id))
    counts = {}
    for visit in visits:
        if not visit.phone_hash:
            continue
        mine = (visit.arrived_at, visit.id)
        earlier = sum(1 for other in seen.get(visit.phone_hash, ()) if other < mine)
        if earlier:
            counts[visit.id] = earlier
    return counts
