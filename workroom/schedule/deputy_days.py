"""A deputy's own reception days: its replies, its swap requests, and the liaison's
answers to them (a swap approved is a change of the day, see ``changes.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from workroom import messenger
from workroom.audit.log import record
from workroom.clock import as_utc_naive
from workroom.db import db, lock
from workroom.errors import Conflict, DomainError
from workroom.people.models import Deputy
from workroom.places.models import Workroom
from workroom.schedule.changes import (
    MAX_REASON,
    Change,
    check_changeable,
    refresh_unfilled,
    replace_deputy,
    withdraw_swaps,
)
from workroom.schedule.models import Assignment, ReceptionDay, SwapRequest
from workroom.schedule.reminders import (
    day_context,
    day_params,
    respond_to_assignment,
    tell_liaisons,
)
from workroom.schedule.tokens import public_url


def my_days(deputy_id: int, now: dt.datetime) -> Sequence[Assignment]:
    """A deputy's assignments on published or cancelled days that have not ended."""
    now = as_utc_naive(now)
    return db.session.scalars(
        sa.select(Assignment)
        .join(ReceptionDay, ReceptionDay.id == Assignment.reception_day_id)
        .where(
            Assignment.deputy_id == deputy_id,
            ReceptionDay.status.in_(("published", "cancelled")),
            ReceptionDay.ends_at > now,
        )
        .options(
            selectinload(Assignment.reception_day).selectinload(ReceptionDay.workroom),
        )
        .order_by(ReceptionDay.starts_at, ReceptionDay.id)
    ).all()


def respond(assignment: Assignment, action: str, now: dt.datetime) -> bool:
    """Confirm or decline an assignment for its deputy (a decline alerts the liaison).

    The same function answers the links in reminders; see
    :func:`reminders.respond_to_assignment` for what it raises.
    """
    changed = respond_to_assignment(assignment, action, as_utc_naive(now))
    if changed and action == "decline":
        day = assignment.reception_day
        withdraw_swaps(day, as_utc_naive(now), assignment.deputy)
        refresh_unfilled(day)
    return changed


def pending_swap(assignment: Assignment) -> SwapRequest | None:
    return db.session.scalar(
        sa.select(SwapRequest).where(
            SwapRequest.reception_day_id == assignment.reception_day_id,
            SwapRequest.deputy_id == assignment.deputy_id,
            SwapRequest.status == "pending",
        )
    )


def request_swap(
    assignment: Assignment, reason: str, now: dt.datetime, actor: Any = None
) -> SwapRequest:
    """A deputy asks to hand its place on a published day to someone else.

    The workroom's liaisons get an email. Raises DomainError on field "reason" when it
    is empty or too long, Conflict when the day is not published, has begun, the
    deputy declined it, or a request is already waiting. The caller commits.
    """
    now = as_utc_naive(now)
    reason = " ".join((reason or "").split())
    day = assignment.reception_day
    if not reason:
        raise DomainError(_l("Say why you need to swap."), "reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_l("Use at most %(n)s characters.", n=MAX_REASON), "reason")
    lock(day, assignment)
    check_changeable(day, now)
    if day.status != "published":
        raise Conflict(_l("Only a published day can be swapped."))
    if assignment.status == "declined":
        raise Conflict(_l("You declined this day."))
    if pending_swap(assignment) is not None:
        raise Conflict(_l("Your swap request for this day is already waiting."))
    deputy = assignment.deputy
    swap = SwapRequest(
        workroom_id=day.workroom_id,
        reception_day=day,
        deputy=deputy,
        reason=reason,
        status="pending",
        requested_at=now,
        decision_note="",
    )
    db.session.add(swap)
    db.session.flush()
    record(
        "swap_request.create",
        swap,
        summary=_l(
            "%(deputy)s asks to swap %(day)s at %(workroom)s: %(reason)s",
            deputy=deputy.name,
            day=day.day,
            workroom=day.workroom.name,
            reason=reason,
        ),
        actor=actor,
        at=now,
    )
    tell_liaisons(
        day,
        f"swap-requested:{swap.id}:liaison-",
        "swap_requested.txt",
        now,
        deputy=deputy,
        reason=reason,
        swaps_url=public_url("schedule.swaps", workroom_id=day.workroom_id),
    )
    return swap


def _check_pending(swap: SwapRequest) -> None:
    if swap.status != "pending":
        raise Conflict(_l("This swap request was already answered."))


def approve_swap(
    swap: SwapRequest, substitute: Deputy, now: dt.datetime, actor: Any = None
) -> Change:
    """Hand the requester's place to ``substitute``: the sequence rises, the requester
    and the substitute are told (see :func:`replace_deputy`).

    Raises Conflict when the request was answered or the day is cancelled or begun,
    DomainError on field "deputy_id" when the substitute may not hold the day.
    The caller commits.
    """
    now = as_utc_naive(now)
    day = swap.reception_day
    # The day, then the request; replace_deputy takes the substitute.
    lock(day, swap)
    _check_pending(swap)
    change = replace_deputy(day, swap.deputy, substitute, now, actor)
    swap.status = "approved"
    swap.substitute = substitute
    swap.decided_at = now
    swap.decided_by_id = getattr(actor, "id", None)
    record(
        "swap_request.approve",
        swap,
        summary=_l(
            "%(deputy)s → %(substitute)s, %(day)s at %(workroom)s",
            deputy=swap.deputy.name,
            substitute=substitute.name,
            day=day.day,
            workroom=day.workroom.name,
        ),
        actor=actor,
        at=now,
    )
    return change


def refuse_swap(swap: SwapRequest, note: str, now: dt.datetime, actor: Any = None) -> Change:
    """Refuse a swap request; the requester stays on duty and is told, with the note.

    Raises Conflict when the request was already answered or its day is cancelled or
    has begun, DomainError on field "note" when it is too long. The caller commits.
    """
    now = as_utc_naive(now)
    lock(swap.reception_day, swap)
    _check_pending(swap)
    check_changeable(swap.reception_day, now)
    note = " ".join((note or "").split())
    if len(note) > MAX_REASON:
        raise DomainError(_l("Use at most %(n)s characters.", n=MAX_REASON), "note")
    swap.status = "refused"
    swap.decision_note = note
    swap.decided_at = now
    swap.decided_by_id = getattr(actor, "id", None)
    day = swap.reception_day
    record(
        "swap_request.refuse",
        swap,
        summary=_l(
            "%(deputy)s, %(day)s at %(workroom)s: %(note)s",
            deputy=swap.deputy.name,
            day=day.day,
            workroom=day.workroom.name,
            note=note,
        ),
        actor=actor,
        at=now,
    )
    change = Change()
    if messenger.tell(
        messenger.deputy(swap.deputy),
        f"swap-refused:{swap.id}",
        now,
        email="swap_refused.txt",
        context={**day_context(day), "note": note},
        sms="RECEPTION_SWAP_REFUSED",
        params=day_params(day),
    ):
        change.notified.append(swap.deputy)
    return change


def pending_swaps(workroom: Workroom, now: dt.datetime) -> Sequence[SwapRequest]:
    """The workroom's waiting swap requests on days that have not begun, soonest first."""
    return db.session.scalars(
        sa.select(SwapRequest)
        .join(ReceptionDay, ReceptionDay.id == SwapRequest.reception_day_id)
        .where(
            SwapRequest.workroom_id == workroom.id,
            SwapRequest.status == "pending",
            ReceptionDay.starts_at > as_utc_naive(now),
        )
        .order_by(ReceptionDay.starts_at, SwapRequest.id)
    ).all()
