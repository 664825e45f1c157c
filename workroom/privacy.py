"""Personal data rules: one place normalises, masks and hashes phone numbers."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from flask_babel import lazy_gettext as _l

from workroom.errors import DomainError

_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_SEPARATORS = re.compile(r"[\s\-–—()（）.]")


def _halfwidth(value: str) -> str:
    # NFKC folds full-width digits and signs (１３８, ＋) into ASCII.
    return unicodedata.normalize("NFKC", value)


def normalize_mobile(value: str, field: str = "phone") -> str:
    """Return an 11-digit mainland mobile number, or raise DomainError.

    Accepts spaces, dashes, brackets, a leading +86/0086/86 and full-width digits.
    """
    digits = _SEPARATORS.sub("", _halfwidth(value or ""))
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not _MAINLAND_MOBILE.match(digits):
        raise DomainError(
            _l("Enter an 11-digit mainland mobile number, such as 138 0000 8000."), field
        )
    return digits


def normalize_phone(value: str, field: str = "phone") -> str:
    """A mobile number, or a landline with its area code (e.g. 0731-58581234)."""
    digits = _SEPARATORS.sub("", _halfwidth(value or ""))
    if _LANDLINE.match(digits):
        return digits
    try:
        return normalize_mobile(value, field)
    except DomainError:
        raise DomainError(
            _l("Enter a mobile number or a landline with its area code, such as 0731-58581234."),
            field,
        ) from None


def mask_phone(value: str | None) -> str:
    """138****8000 — the form a phone number takes in lists, exports and logs."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def phone_hash(value: str, key: bytes) -> str:
    """A keyed hash that links repeat visits without keeping the number."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
