"""Kiosks: registration, one-time pairing codes and the signed, revocable device credential.

An admin registers a kiosk for a workroom and gets a short pairing code, shown once and
stored only as a keyed hash. The tablet enters the code at ``/kiosk/pair`` and receives a
long-lived credential: a signed token naming the kiosk and its ``credential_version``.
Pairing again or revoking raises the version, so every older credential stops working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from workroom.audit.log import record
from workroom.db import db, increment, lock
from workroom.errors import Conflict, DomainError
from workroom.places.models import Workroom
from workroom.visits.models import Kiosk

# No 0/O, 1/I/L: codes are read off one screen and typed on another.
PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PAIRING_CODE_LENGTH = 8
DEFAULT_PAIRING_MINUTES = 15
COOKIE_NAME = "workroom_kiosk"
# Browsers cap cookie lifetimes at 400 days; the kiosk page renews the cookie on each load.
COOKIE_MAX_AGE = 400 * 86400
_SALT = "workroom.kiosk-credential"
_SEPARATORS = re.compile(r"[\s\-–—_.·]")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def format_pairing_code(code: str) -> str:
    """ABCD-EFGH: the code as shown to the admin."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalize_pairing_code(text: str) -> str:
    """Upper-case the code and drop spaces, dashes and full-width forms."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "")).upper()


def hash_pairing_code(code: str) -> str:
    """The stored form of a pairing code: an HMAC-SHA256 keyed with the app's secret."""
    key = f"{_SALT}:{current_app.config['SECRET_KEY']}".encode()
    return hmac.new(key, normalize_pairing_code(code).encode(), hashlib.sha256).hexdigest()


def _pairing_minutes() -> int:
    return int(current_app.config.get("KIOSK_PAIRING_MINUTES", DEFAULT_PAIRING_MINUTES))


def _issue_code(kiosk: Kiosk, now: dt.datetime) -> str:
    code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))
    kiosk.pairing_code_hash = hash_pairing_code(code)
    kiosk.pairing_expires_at = now + dt.timedelta(minutes=_pairing_minutes())
    return code


def register_kiosk(workroom: Workroom | None, name: str, now: dt.datetime) -> tuple[Kiosk, str]:
    """Register a kiosk for an active workroom; return it and its one-time pairing code.

    The kiosk's provisional-ticket prefix is "K" followed by its id (e.g. K2).
    Raises DomainError (field ``workroom_id`` or ``name``).
    """
    if workroom is None or not workroom.active:
        raise DomainError(_l("Choose an active workroom."), "workroom_id")
    name = (name or "").strip()
    if not name:
        raise DomainError(_l("Enter a name."), "name")
    # A unique placeholder until the id is known.
    kiosk = Kiosk(workroom=workroom, name=name, prefix=secrets.token_hex(4), credential_version=0)
    db.session.add(kiosk)
    db.session.flush()
    kiosk.prefix = f"K{kiosk.id}"
    code = _issue_code(kiosk, now)
    record("kiosk.create", kiosk, summary=f"{name} ({workroom.name}, {kiosk.prefix})")
    return kiosk, code


def new_pairing_code(kiosk: Kiosk, now: dt.datetime) -> str:
    """Replace the kiosk's pairing code with a fresh one (to pair a new tablet).

    The tablet paired now keeps working until the new code is used. Raises Conflict
    for a revoked kiosk: register a new one instead.
    """
    lock(kiosk)
    if kiosk.revoked_at is not None:
        raise Conflict(_l("This kiosk is revoked. Register a new kiosk instead."))
    code = _issue_code(kiosk, now)
    record("kiosk.pairing_code", kiosk, summary=kiosk.name)
    return code


def pair_kiosk(code: str, now: dt.datetime) -> tuple[Kiosk, str]:
    """Use a pairing code once; return the kiosk and its new device credential.

    Raises DomainError (field ``code``) when the code is unknown, used, expired, or
    belongs to a revoked kiosk or an inactive workroom.
    """
    wrong = DomainError(
        _l("This pairing code is wrong or has expired. Ask for a new code."), "code"
    )
    if len(normalize_pairing_code(code)) != PAIRING_CODE_LENGTH:
        raise wrong
    # Taken for update: a second tablet with the same code waits, then finds it used.
    kiosk = db.session.scalar(
        sa.select(Kiosk)
        .where(Kiosk.pairing_code_hash == hash_pairing_code(code))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if (
        kiosk is None
        or kiosk.revoked_at is not None
        or kiosk.pairing_expires_at is None
        or kiosk.pairing_expires_at <= now
        or not kiosk.workroom.active
    ):
        raise wrong
    kiosk.pairing_code_hash = None
    kiosk.pairing_expires_at = None
    kiosk.paired_at = now
    kiosk.last_seen_at = now
    increment(kiosk, "credential_version")
    record("kiosk.pair", kiosk, summary=f"{kiosk.name} ({kiosk.prefix})")
    return kiosk, make_credential(kiosk)


def revoke_kiosk(kiosk: Kiosk, now: dt.datetime) -> None:
    """Revoke a kiosk for good: its credential and any unused pairing code stop working."""
    lock(kiosk)
    if kiosk.revoked_at is not None:
        return
    kiosk.revoked_at = now
    increment(kiosk, "credential_version")
    kiosk.pairing_code_hash = None
    kiosk.pairing_expires_at = None
    record("kiosk.revoke", kiosk, summary=f"{kiosk.name} ({kiosk.prefix})")


def make_credential(kiosk: Kiosk) -> str:
    """The signed device credential for the kiosk's current credential version."""
    return _serializer().dumps([kiosk.id, kiosk.credential_version])


def verify_kiosk_credential(token: str | None) -> Kiosk | None:
    """The kiosk a device credential belongs to, or None.

    None when the token is missing, forged or damaged, when the kiosk was revoked or
    paired again since the token was issued, or when its workroom is inactive.
    """
    if not token or len(token) > 200:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(data, list) and len(data) == 2 and all(type(v) is int for v in data)):
        return None
    kiosk = db.session.get(Kiosk, data[0])
    if (
        kiosk is None
        or kiosk.revoked_at is not None
        or kiosk.paired_at is None
        or kiosk.credential_version != data[1]
        or not kiosk.workroom.active
    ):
        return None
    return kiosk


def pairing_open(kiosk: Kiosk, now: dt.datetime) -> bool:
    """Whether the kiosk has a pairing code that can still be used."""
    return (
        kiosk.revoked_at is None
        and kiosk.pairing_code_hash is not None
        and kiosk.pairing_expires_at is not None
        and kiosk.pairing_expires_at > now
    )
