"""The JSON API (``/api/v1``): categories, the privacy notice, the OpenAPI document, and
check-ins (``/api/v1/workrooms/<slug>/checkins``), which the kiosk and phone pages use too.

A flood of check-ins from one client address answers 429 (``CHECKIN_RATE_LIMIT``); a
paired kiosk is exempt, as it may sync a whole offline queue at once. A request that is
not JSON, too large or without a valid ``Idempotency-Key`` is refused (415, 413, 400)
before the flood limit counts it."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, g, request
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from workroom import throttle
from workroom.categories.models import Category
from workroom.clock import local_date, to_local, utcnow
from workroom.db import db, is_sqlite, reset_write_intent, set_write_intent
from workroom.errors import Conflict, DomainError
from workroom.extensions import csrf
from workroom.places.models import Workroom
from workroom.visits import checkin
from workroom.visits.duty import (
    NextReception,
    ReceptionNow,
    deputies_on_duty,
    next_reception,
    reception_now,
)
from workroom.visits.models import Kiosk, Visit
from workroom.visits.privacy_notice import privacy_notice

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Citizens' devices send JSON without a session cookie, so there is no session to forge.
csrf.exempt(bp)

KIOSK_HEADER = "X-Kiosk-Credential"
# Far above any valid check-in (a 500-character description), far below a flood.
MAX_BODY_BYTES = 256 * 1024
DEFAULT_CHECKIN_RATE_LIMIT = "30 per minute"


# Reference data


def _listed_categories() -> list[tuple[Category, list[Category]]]:
    """The active top-level categories in display order, each with its active children:
    the purposes a check-in may choose."""
    rows = db.session.scalars(
        sa.select(Category).where(Category.active).order_by(Category.position, Category.id)
    ).all()
    children: dict[int, list[Category]] = {}
    for category in rows:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(category)
    return [(c, children.get(c.id, [])) for c in rows if c.parent_id is None]


@bp.get("/categories")
def categories() -> Any:
    def entry(category: Category) -> dict[str, Any]:
        return {
            "code": category.code,
            "label_zh": category.label_zh,
            "label_en": category.label_en,
            "label": category.label,
        }

    return {
        "categories": [
            {**entry(c), "children": [entry(child) for child in children]}
            for c, children in _listed_categories()
        ]
    }


@bp.get("/privacy-notice")
def current_privacy_notice() -> Any:
    return privacy_notice().as_dict()


@bp.get("/openapi.json")
def openapi() -> Any:
    from workroom.api.openapi import openapi_document

    codes = [
        category.code
        for parent, children in _listed_categories()
        for category in (parent, *children)
    ]
    return openapi_document(current_app.config["PUBLIC_URL"], category_codes=codes)


def _error(status: int, code: str, message: str, **extra: Any) -> tuple[dict[str, Any], int]:
    return {"error": code, "message": message, **extra}, status


def _iso(moment: Any) -> str | None:
    return to_local(moment).isoformat(timespec="seconds") if moment is not None else None


# Check-in


def _checkin_limit() -> str:
    return str(current_app.config.get("CHECKIN_RATE_LIMIT") or DEFAULT_CHECKIN_RATE_LIMIT)


def _request_kiosk() -> Kiosk | None:
    """The kiosk whose credential came with the request (verified once per request)."""
    if "api_kiosk_id" not in g:
        token = request.headers.get(KIOSK_HEADER, "")
        kiosk_id = None
        if token:
            # Checked before the view's write turn: a read, ended at once.
            intent = set_write_intent(False)
            try:
                kiosk = checkin.verify_kiosk_credential(token)
                kiosk_id = kiosk.id if kiosk is not None else None
            finally:
                db.session.rollback()
                reset_write_intent(intent)
        g.api_kiosk_id = kiosk_id
    return db.session.get(Kiosk, g.api_kiosk_id) if g.api_kiosk_id is not None else None


def _flooded() -> int | None:
    """The seconds to wait when this client sent too many check-ins, else None."""
    if _request_kiosk() is not None:
        return None
    return throttle.hit(_checkin_limit(), "checkin", request.remote_addr or "")


# SQLite admits one writer and makes the others poll with growing sleeps; check-ins in
# this process wait on a lock instead, so the next starts as soon as the last commits.
_sqlite_check_ins = threading.Lock()


@contextlib.contextmanager
def _write_turn() -> Iterator[None]:
    if not is_sqlite():
        yield
        return
    if db.session().in_transaction():
        # End a read begun before the view (a signed-in user's lookup): it holds the lock.
        db.session.commit()
    with _sqlite_check_ins:
        try:
            yield
        finally:
            db.session.rollback()


def _next_reception_json(upcoming: NextReception) -> dict[str, Any] | None:
    if upcoming.at is None:
        return None
    day = upcoming.reception_day
    lines = []
    day_json = None
    if day is not None:
        start, end = to_local(day.starts_at), to_local(day.ends_at)
        day_json = {
            "date": start.date().isoformat(),
            "starts_at": _iso(day.starts_at),
            "ends_at": _iso(day.ends_at),
            "deputies": [d.as_dict() for d in deputies_on_duty(day)],
        }
        lines.append(
            _(
                "Next reception day: %(date)s, %(start)s to %(end)s.",
                date=format_date(start.date(), "full"),
                start=start.strftime("%H:%M"),
                end=end.strftime("%H:%M"),
            )
        )
    liaison_json = None
    if upcoming.liaison is not None:
        opens, closes = to_local(upcoming.liaison.opens_at), to_local(upcoming.liaison.closes_at)
        liaison_json = {
            "opens_at": _iso(upcoming.liaison.opens_at),
            "closes_at": _iso(upcoming.liaison.closes_at),
            "hours": upcoming.liaison_hours,
        }
        lines.append(
            _(
                "The liaison is next in on %(date)s from %(start)s to %(end)s "
                "(on working days: %(hours)s).",
                date=format_date(opens.date(), "full"),
                start=opens.strftime("%H:%M"),
                end=closes.strftime("%H:%M"),
                hours=upcoming.liaison_hours,
            )
        )
    return {
        "at": _iso(upcoming.at),
        "reception_day": day_json,
        "liaison": liaison_json,
        "text": " ".join(lines),
    }


def checkin_answer(
    visit: Visit, reception: ReceptionNow | None = None, ahead: int | None = None
) -> dict[str, Any]:
    """The answer to a check-in, built from the stored visit so a replay gets the same.
    ``reception`` and ``ahead`` (the queue position), when known, save a query each."""
    workroom = visit.workroom
    receiving = visit.kind == "checkin"
    if receiving:
        reception = reception or reception_now(workroom, visit.arrived_at)
    on_duty = reception.on_duty if receiving and reception is not None else []
    return {
        "kind": visit.kind,
        "ticket": visit.ticket_label,
        "ticket_number": visit.ticket_number,
        "ticket_date": visit.ticket_date.isoformat() if visit.ticket_date else None,
        "receipt": visit.receipt_code,
        "position": checkin.queue_position(visit) if ahead is None else ahead,
        "receiving": receiving,
        "on_duty": [person.as_dict() for person in on_duty],
        "next_reception": (
            None if receiving else _next_reception_json(next_reception(workroom, visit.arrived_at))
        ),
        "workroom": {"slug": workroom.slug, "name": workroom.name},
        "channel": visit.channel,
        "wants_reply": visit.wants_reply,
        "privacy_notice": visit.consent_version,
        "arrived_at": _iso(visit.arrived_at),
    }


def _invalid(errors: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return _error(
        400,
        "invalid",
        _("Some answers need another look."),
        errors={field: str(message) for field, message in errors.items()},
    )


@bp.post("/workrooms/<slug>/checkins")
def create_checkin(slug: str) -> Any:
    # What is refused on its face is refused before the flood limit counts it: it costs
    # nothing, and the client learns what to fix rather than to wait.
    request.max_content_length = MAX_BODY_BYTES
    if not request.is_json:
        return _error(415, "unsupported_media_type", _("Send the check-in as JSON."))
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _error(413, "too_large", _("The check-in is too large."))
    try:
        key = checkin.check_idempotency_key(request.headers.get("Idempotency-Key"))
    except DomainError as error:
        return _invalid({checkin.IDEMPOTENCY_FIELD: error.message})
    wait = _flooded()
    if wait is not None:
        message = _("Too many requests. Wait a minute and try again.")
        return *_error(429, "too_many_requests", message), {"Retry-After": str(wait)}
    payload = request.get_json(silent=True)
    with _write_turn():
        for _attempt in range(3):
            try:
                return _check_in(slug, key, payload, utcnow())
            except IntegrityError:
                # A concurrent request stored this key first (the next pass answers
                # its visit), or the receipt code drawn was taken (it draws another).
                db.session.rollback()
    raise RuntimeError("could not store the check-in")


@functools.cache
def _before_writing() -> sa.Select:
    """Everything a check-in reads before it writes, in one statement: the active
    workroom with the slug, the id of the visit stored under the idempotency key, the
    id of the category chosen, and how many wait in the workroom's queue today."""
    visit = Visit.__table__
    stored = sa.select(visit.c.id).where(
        visit.c.idempotency_key == sa.bindparam("key", type_=visit.c.idempotency_key.type)
    )
    day = sa.bindparam("day", type_=visit.c.ticket_date.type)
    return sa.select(
        Workroom,
        stored.scalar_subquery(),
        checkin.category_id_by_code().scalar_subquery(),
        checkin.waiting(Workroom.id, day).scalar_subquery(),
    ).where(Workroom.slug == sa.bindparam("slug"), Workroom.active)


def _check_in(slug: str, key: str, payload: Any, now: dt.datetime) -> Any:
    from_kiosk = bool(request.headers.get(KIOSK_HEADER))
    kiosk = _request_kiosk()
    params = {
        "slug": slug[:60],
        "key": key,
        "code": checkin.category_code(payload.get("category"))
        if isinstance(payload, dict)
        else None,
        "day": local_date(now),
    }
    row = db.session.execute(_before_writing(), params).first()
    if row is None:
        return _error(404, "not_found", _("No workroom has this address."))
    workroom, stored_id, category_id, waiting = row
    if from_kiosk:
        if kiosk is None:
            return _error(
                401, "kiosk_not_paired", _("This kiosk is not paired any more. Pair it again.")
            )
        if kiosk.workroom_id != workroom.id:
            return _error(403, "kiosk_elsewhere", _("This kiosk belongs to another workroom."))

    fingerprint = checkin.request_fingerprint(workroom.slug, payload)
    try:
        existing = db.session.get(Visit, stored_id) if stored_id is not None else None
        if existing is not None:
            # A replay answers as the first time, even if the data has changed since.
            return checkin_answer(checkin.replayed(existing, fingerprint)), 200
        try:
            data = checkin.parse_checkin(payload, category_id=category_id)
        except checkin.CheckinInvalid as error:
            return _invalid(error.errors)
        reception = reception_now(workroom, now)
        visit = checkin.check_in(
            workroom,
            data,
            channel="kiosk" if kiosk is not None else "phone",
            now=now,
            kiosk=kiosk,
            idempotency_key=key,
            fingerprint=fingerprint,
            reception=reception,
        )
    except Conflict as error:
        db.session.rollback()
        return _error(409, "conflict", str(error.message))
    # The new ticket is numbered after every one waiting before it was stored.
    answer = checkin_answer(visit, reception, ahead=waiting if visit.ticket_number else None)
    db.session.commit()
    return answer, 201
