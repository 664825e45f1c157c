"""Text people type: what a single-line field (a name, a title, a code) and a
multi-line field (a description, a note) may hold. Forms, the check-in API and the
domain functions all ask here.

A single line holds no line break and no control character; a multi-line text keeps
its line breaks and tabs and holds no other control character. Neither holds the
bidirectional overrides that make a name read differently from how it is stored.
Surrounding space is not counted: it is stripped.
"""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l

from workroom.errors import DomainError

_LINE_BREAKS = frozenset("\n\r\u2028\u2029\x85\x0b\x0c")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

CONTROL_MESSAGE = _l("Remove the invisible control characters.")
LINE_BREAK_MESSAGE = _l("Keep this on one line: remove the line breaks.")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS


def text_problem(value: str, *, multiline: bool) -> str | None:
    """The message for what ``value`` may not hold, or None when it is fine."""
    value = value.strip()
    if multiline:
        bad = any(_is_control(ch) and ch not in "\n\r\t" for ch in value)
        return str(CONTROL_MESSAGE) if bad else None
    if any(ch in _LINE_BREAKS for ch in value):
        return str(LINE_BREAK_MESSAGE)
    if any(_is_control(ch) for ch in value):
        return str(CONTROL_MESSAGE)
    return None


def check_text(value: str, field: str, *, multiline: bool) -> str:
    """``value`` stripped, or DomainError on ``field`` naming what it may not hold."""
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise DomainError(problem, field)
    return value.strip()
