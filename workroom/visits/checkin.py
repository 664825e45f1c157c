"""Check-in: validating what a citizen sends, tickets, receipt codes, idempotent storage,
messages left outside reception hours, and visits logged by staff.

Tickets are numbered 1, 2, 3 … per workroom per local day and labelled with three
digits ("007"); a kiosk's offline provisional ticket ("K2-003") is kept as the label
while the server number still orders the queue.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from workroom.audit.log import record, stored_words
from workroom.categories.models import Category
from workroom.clock import local_date
from workroom.db import db
from workroom.errors import Conflict, DomainError
from workroom.places.models import Workroom
from workroom.privacy import normalize_mobile, normalize_phone, phone_hash
from workroom.text import CONTROL_MESSAGE, text_problem
from workroom.visits.duty import ReceptionNow, reception_now
from workroom.visits.models import CHANNELS, Kiosk, TicketCounter, Visit
from workroom.visits.privacy_notice import CURRENT_VERSION, KNOWN_VERSIONS

# Unambiguous characters: no 0/O, 1/I/L.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 8
NAME_MAX = 50
DESCRIPTION_MAX = 500
# Letters and reports logged by staff may be longer than what a citizen types.
RECORD_DESCRIPTION_MAX = 2000
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,80}")
IDEMPOTENCY_FIELD = "Idempotency-Key"
# Channels of a citizen's own check-in, and of visits staff log afterwards.
CHECKIN_CHANNELS = ("kiosk", "phone", "staff")
RECORD_CHANNELS = ("staff", "walk_in", "call", "letter", "message")
# A provisional ticket from a phone: "P" and a few characters the page chose, a number.
_PHONE_PROVISIONAL = re.compile(r"P[0-9A-Z]{1,5}-\d{1,4}")
_PROVISIONAL = re.compile(r"[0-9A-Z]{1,8}-\d{1,4}")
# Upsert with RETURNING needs SQLite 3.35.
_SQLITE_UPSERT = sqlite3.sqlite_version_info >= (3, 35)


class CheckinInvalid(DomainError):
    """Several fields are wrong at once: ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, Any]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field)
        self.errors = errors


@dataclass(frozen=True)
class CheckinRequest:
    """A validated check-in: what the citizen chose and typed."""

    category_id: int
    name: str | None = None
    phone: str | None = None
    description: str = ""
    consent_version: str = CURRENT_VERSION
    provisional_ticket: str | None = None


# Small pure helpers


def ticket_label(number: int) -> str:
    """The label shown and called out for a server ticket number: 7 → "007"."""
    return f"{number:03d}"


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def visitor_phone_hash(phone: str) -> str:
    """The keyed hash that links a visitor's repeat visits (key derived from SECRET_KEY)."""
    key = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(), b"visitor-phone", hashlib.sha256
    ).digest()
    return phone_hash(phone, key)


def request_fingerprint(slug: str, body: Any) -> str:
    """A hash of a check-in request: the workroom and the JSON body, keys sorted.

    The provisional ticket is left out: a kiosk that timed out on a check-in the
    server did store retries it from its offline queue with a provisional ticket
    added, and must get the stored answer, not a conflict.
    """
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "provisional_ticket"}
    canonical = json.dumps(
        {"workroom": slug, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def check_idempotency_key(value: str | None) -> str:
    """The key itself; raise DomainError when it is missing or not 1–80 of [A-Za-z0-9_-]."""
    if not value:
        raise DomainError(
            _l("Send an Idempotency-Key header with each check-in."), IDEMPOTENCY_FIELD
        )
    if not IDEMPOTENCY_KEY.fullmatch(value):
        raise DomainError(
            _l("The Idempotency-Key must be 1 to 80 letters, digits, '-' or '_'."),
            IDEMPOTENCY_FIELD,
        )
    return value


def verify_kiosk_credential(token: str) -> Kiosk | None:
    """The kiosk a device credential belongs to; None when it is invalid or revoked."""
    try:
        from workroom.visits.kiosk_auth import verify_kiosk_credential as verify
    except ImportError:
        return None
    return verify(token)


# Validation


def _text(
    payload: dict[str, Any],
    name: str,
    limit: int,
    errors: dict[str, Any],
    *,
    multiline: bool = False,
) -> str | None:
    """A field's text, stripped; None when absent or blank. Problems go to ``errors``."""
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = _l("Enter text here.")
        return None
    problem = text_problem(value, multiline=multiline)
    if problem:
        errors[name] = problem
        return None
    value = value.strip()
    if len(value) > limit:
        errors[name] = _l("Use at most %(n)s characters.", n=limit)
        return None
    return value or None


def _usable_category(*columns: Any) -> sa.Select:
    """``columns`` of the active category with the ``code`` bound, whose parent, if
    any, is active too: the one rule for which purposes a visit may have."""
    table = Category.__table__
    parent = table.alias("parent")
    return (
        sa.select(*columns)
        .select_from(table.outerjoin(parent, parent.c.id == table.c.parent_id))
        .where(
            table.c.code == sa.bindparam("code"),
            table.c.active,
            sa.or_(table.c.parent_id.is_(None), parent.c.active),
        )
        .limit(1)
    )


# Statements every check-in runs are built once: SQLAlchemy then reuses their cache key.
@functools.cache
def _category_by_code() -> sa.Select:
    return _usable_category(Category)


@functools.cache
def category_id_by_code() -> sa.Select:
    """The id of the category that ``find_category`` finds for the ``code`` bound."""
    return _usable_category(Category.__table__.c.id)


def category_code(value: Any) -> str | None:
    """The category code a request sent, stripped; None when it is not a code at all."""
    return value.strip() or None if isinstance(value, str) else None


def find_category(code: Any) -> Category | None:
    """The active category with ``code`` whose parent, if any, is active too."""
    code = category_code(code)
    return db.session.scalars(_category_by_code(), {"code": code}).first() if code else None


def find_category_id(code: Any) -> int | None:
    """The id of that category (a check-in needs no more)."""
    code = category_code(code)
    return db.session.scalar(category_id_by_code(), {"code": code}) if code else None


def parse_checkin(payload: Any, *, category_id: int | None = None) -> CheckinRequest:
    """Validate a check-in body (a decoded JSON object). ``category_id`` is the id of
    the category it names, when the caller has looked it up already.

    Raises CheckinInvalid with one message per wrong field: ``category`` missing or
    unknown, ``name`` over 50 characters, ``phone`` not a mainland mobile number,
    ``description`` over 500 characters, control characters in any of them, ``consent``
    not true, or an unknown ``privacy_notice`` version.
    """
    if not isinstance(payload, dict):
        raise CheckinInvalid({"body": _l("Send the check-in as a JSON object.")})
    errors: dict[str, Any] = {}

    if payload.get("category") in (None, ""):
        errors["category"] = _l("Choose what your visit is about.")
    else:
        category_id = category_id or find_category_id(payload.get("category"))
        if category_id is None:
            errors["category"] = _l("Choose one of the listed purposes.")

    name = _text(payload, "name", NAME_MAX, errors)

    phone = None
    raw_phone = payload.get("phone")
    if isinstance(raw_phone, int) and not isinstance(raw_phone, bool):
        raw_phone = str(raw_phone)
    if raw_phone is not None and not isinstance(raw_phone, str):
        errors["phone"] = _l("Enter text here.")
    elif raw_phone and raw_phone.strip():
        if text_problem(raw_phone, multiline=False):
            errors["phone"] = CONTROL_MESSAGE
        else:
            try:
                phone = normalize_mobile(raw_phone[:40], "phone")
            except DomainError as error:
                errors["phone"] = error.message

    description = _text(payload, "description", DESCRIPTION_MAX, errors, multiline=True)

    if payload.get("consent") is not True:
        errors["consent"] = _l("Agree to the privacy notice to continue.")
    version = payload.get("privacy_notice")
    if version in (None, ""):
        version = CURRENT_VERSION
    if not isinstance(version, str) or version not in KNOWN_VERSIONS:
        errors["privacy_notice"] = _l("This privacy notice is unknown. Reload the page.")

    provisional = payload.get("provisional_ticket")
    if not (isinstance(provisional, str) and _PROVISIONAL.fullmatch(provisional)):
        provisional = None

    if errors:
        raise CheckinInvalid(errors)
    assert category_id is not None
    return CheckinRequest(
        category_id=category_id,
        name=name,
        phone=phone,
        description=description or "",
        consent_version=version,
        provisional_ticket=provisional,
    )


# Tickets and the queue


@functools.cache
def _ticket_upsert(dialect: str) -> Any:
    table = TicketCounter.__table__
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return (
        insert(table)
        .values(workroom_id=sa.bindparam("workroom_id"), day=sa.bindparam("day"), last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.workroom_id, table.c.day],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )


def next_ticket(workroom_id: int, day: dt.date) -> int:
    """Take the next ticket number of a workroom's day, in the caller's transaction.

    One atomic statement on the counter row: concurrent callers never get the same
    number (the row stays locked until the caller commits or rolls back).
    """
    table = TicketCounter.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql" or (dialect == "sqlite" and _SQLITE_UPSERT):
        params = {"workroom_id": workroom_id, "day": day}
        return db.session.execute(_ticket_upsert(dialect), params).scalar_one()
    # Older SQLite: the write lock taken at BEGIN IMMEDIATE keeps this sequence atomic.
    where = (table.c.workroom_id == workroom_id) & (table.c.day == day)
    updated = db.session.execute(
        sa.update(table).where(where).values(last_number=table.c.last_number + 1)
    )
    if not updated.rowcount:
        db.session.execute(sa.insert(table).values(workroom_id=workroom_id, day=day, last_number=1))
    return db.session.execute(sa.select(table.c.last_number).where(where)).scalar_one()


def waiting(workroom_id: Any, day: Any) -> sa.Select:
    """Count the tickets still waiting in a workroom's queue on a local day: as many
    as wait ahead of the next ticket, which is numbered after them all."""
    table = Visit.__table__
    return (
        sa.select(sa.func.count())
        .select_from(table)
        .where(
            table.c.workroom_id == workroom_id,
            table.c.ticket_date == day,
            table.c.status == "waiting",
        )
    )


@functools.cache
def _waiting_ahead() -> sa.Select:
    return waiting(sa.bindparam("workroom_id"), sa.bindparam("day")).where(
        Visit.__table__.c.ticket_number < sa.bindparam("number")
    )


def queue_position(visit: Visit) -> int | None:
    """How many visitors wait ahead of ``visit`` in its day's queue (0 once called);
    None for a visit without a ticket."""
    if visit.ticket_number is None:
        return None
    if visit.status != "waiting":
        return 0
    params = {
        "workroom_id": visit.workroom_id,
        "day": visit.ticket_date,
        "number": visit.ticket_number,
    }
    return db.session.scalar(_waiting_ahead(), params)


def waiting_visits(workroom_id: int, day: dt.date) -> list[Visit]:
    """The tickets still waiting at a workroom on a local day, in ticket order."""
    return list(
        db.session.scalars(
            sa.select(Visit)
            .where(
                Visit.workroom_id == workroom_id,
                Visit.ticket_date == day,
                Visit.status == "waiting",
            )
            .order_by(Visit.ticket_number)
        )
    )


# Storing


@functools.cache
def _visit_id_by_key() -> sa.Select:
    table = Visit.__table__
    return sa.select(table.c.id).where(table.c.idempotency_key == sa.bindparam("key"))


def visit_for_key(key: str) -> Visit | None:
    """The visit stored under an idempotency key, if any (found through its unique index)."""
    # Nearly every key is new: look for the id alone before loading a whole visit.
    found = db.session.scalar(_visit_id_by_key(), {"key": key})
    return db.session.get(Visit, found) if found is not None else None


def replayed(visit: Visit, fingerprint: str | None) -> Visit:
    """The visit a repeated request stored; raise Conflict when its body was different."""
    if visit.request_fingerprint != fingerprint:
        raise Conflict(
            _l("This Idempotency-Key was already used for a different check-in."),
            IDEMPOTENCY_FIELD,
        )
    return visit


def provisional_label(value: str | None, channel: str, kiosk: Kiosk | None) -> str | None:
    """A provisional ticket the device issued offline, when it is valid for that device:
    the kiosk's own prefix ("K2-003"), or a phone's "P…" prefix."""
    if not value:
        return None
    if channel == "kiosk" and kiosk is not None:
        return value if re.fullmatch(rf"{re.escape(kiosk.prefix)}-\d{{1,4}}", value) else None
    if channel == "phone":
        return value if _PHONE_PROVISIONAL.fullmatch(value) else None
    return None


def check_in(
    workroom: Workroom,
    request: CheckinRequest,
    *,
    channel: str,
    now: dt.datetime,
    kiosk: Kiosk | None = None,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    reception: ReceptionNow | None = None,
    actor: Any = None,
) -> Visit:
    """Store a citizen's check-in under an idempotency key the caller found unused
    (``visit_for_key``; a replay is answered with ``replayed``).

    While the workroom receives, the visit gets the day's next ticket and waits in the
    queue; otherwise it is a message (no ticket) for the liaison. Adds to the caller's
    transaction and flushes; the caller commits. When a concurrent request stored the
    same key first, or the receipt code drawn is taken (one chance in 10^11), the flush
    raises IntegrityError: the caller rolls back and asks again, which then answers the
    stored visit or draws another code.
    """
    if channel not in CHECKIN_CHANNELS:
        raise ValueError(f"unknown check-in channel {channel!r}")
    reception = reception or reception_now(workroom, now)
    visit = Visit(
        workroom_id=workroom.id,
        channel=channel,
        kind="checkin" if reception.receiving else "message",
        category_id=request.category_id,
        visitor_name=request.name,
        phone=request.phone,
        phone_hash=visitor_phone_hash(request.phone) if request.phone else None,
        description=request.description,
        wants_reply=bool(request.phone),
        receipt_code=new_receipt_code(),
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        consent_version=request.consent_version,
        consented_at=now,
        status="waiting" if reception.receiving else "open",
        arrived_at=now,
        reception_day_id=reception.reception_day_id,
        kiosk_id=kiosk.id if kiosk is not None else None,
    )
    if reception.receiving:
        day = local_date(now)
        visit.ticket_date = day
        visit.ticket_number = next_ticket(workroom.id, day)
        label = provisional_label(request.provisional_ticket, channel, kiosk)
        visit.ticket_label = label or ticket_label(visit.ticket_number)
    db.session.add(visit)
    db.session.flush()
    record(
        f"visit.{visit.kind}",
        visit,
        summary=f"{stored_words(CHANNELS.get(channel, channel))} {visit.ticket_label or ''}".strip(),
        actor=actor,
        at=now,
    )
    return visit


def log_visit(
    workroom: Workroom,
    *,
    channel: str,
    category: Category | str | None,
    name: str | None,
    phone: str | None,
    description: str | None,
    now: dt.datetime,
    actor: Any,
    consent_version: str | None = None,
) -> Visit:
    """Record a visit staff received outside the queue: a walk-in, a call, a letter, a
    message. It gets a receipt code but no ticket; its status is "open" until the
    record is completed. ``phone`` may be a landline.

    Raises DomainError on ``channel``, ``category``, ``name`` (over 50 characters),
    ``phone`` or ``description`` (over 2000 characters).
    """
    if channel not in RECORD_CHANNELS:
        raise DomainError(_l("Choose how the visit reached the workroom."), "channel")
    if isinstance(category, str):
        found = find_category(category)
        if found is None:
            raise DomainError(_l("Choose one of the listed purposes."), "category")
        category = found
    errors: dict[str, Any] = {}
    fields = {"name": name, "description": description}
    clean_name = _text(fields, "name", NAME_MAX, errors)
    clean_description = _text(fields, "description", RECORD_DESCRIPTION_MAX, errors, multiline=True)
    if errors:
        raise CheckinInvalid(errors)
    clean_phone = normalize_phone(phone, "phone") if phone and phone.strip() else None
    if consent_version is not None and consent_version not in KNOWN_VERSIONS:
        raise DomainError(_l("This privacy notice is unknown. Reload the page."), "consent")
    for _attempt in range(3):
        visit = Visit(
            workroom_id=workroom.id,
            channel=channel,
            kind="record",
            category_id=category.id if category is not None else None,
            visitor_name=clean_name,
            phone=clean_phone,
            phone_hash=visitor_phone_hash(clean_phone) if clean_phone else None,
            description=clean_description or "",
            wants_reply=bool(clean_phone),
            receipt_code=new_receipt_code(),
            consent_version=consent_version,
            consented_at=now if consent_version else None,
            status="open",
            arrived_at=now,
            received_by_id=getattr(actor, "id", None),
        )
        try:
            with db.session.begin_nested():
                db.session.add(visit)
        except IntegrityError:
            continue  # a receipt code already taken: draw another
        break
    else:
        raise RuntimeError("could not store the visit")
    record("visit.record", visit, summary=CHANNELS.get(channel, channel), actor=actor, at=now)
    return visit
