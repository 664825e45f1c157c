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


# Numbers inside free text (a description, a note, a reply). Digits may be full-width
# and a mobile number may be written in groups (139 1234 5678, 139-1234-5678).
_D = r"[0-9０-９]"
_SEP = r"[\s\-–—]?"
_NUMBER_IN_TEXT = re.compile(
    # an ID card number (18 characters, the last may be X), or an old 15-digit one
    rf"(?<!{_D})(?P<id>{_D}{{17}}[0-9０-９XxＸｘ]|{_D}{{15}})(?![0-9０-９XxＸｘ])"
    # a mainland mobile number, with or without +86
    rf"|(?<!{_D})(?:(?:\+|＋)?(?:86|８６){_SEP})?[1１][3-9３-９]{_D}(?:{_SEP}{_D}{{4}}){{2}}(?!{_D})"
)
_DIGIT = re.compile(_D)


def scrub_numbers(text: str) -> str:
    """Mask mobile and ID numbers in ``text`` as lists and logs show them:
    a phone keeps its first three and last four digits (138****8000), an ID number its
    region and last four (430302********1234)."""

    def masked(match: re.Match[str]) -> str:
        if match.group("id"):
            number = match.group()
            return number[:6] + "*" * (len(number) - 10) + number[-4:]
        digits = [i for i, ch in enumerate(match.group()) if _DIGIT.match(ch)]
        hidden = set(digits[3:-4])
        return "".join("*" if i in hidden else ch for i, ch in enumerate(match.group()))

    return _NUMBER_IN_TEXT.sub(masked, text)


def erase_numbers(text: str) -> str:
    """Replace every digit of the mobile and ID numbers in ``text`` with
    ``*``, keeping the rest as written: what the retention purge leaves of free text.
    Running it again changes nothing."""
    return _NUMBER_IN_TEXT.sub(lambda m: re.sub(r"[0-9０-９XxＸｘ]", "*", m.group()), text)
