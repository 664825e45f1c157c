"""The outbox's stored errors in the reader's language.

Delivery stores what went wrong as it happened (``last_error``), in the words of the
code, with the server's or gateway's own answer after a colon. Pages show it through
``error_label``: each known error in the reader's language, with the remote answer, an
address or an exception name kept as it came; an error not known here is shown as
stored.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

# (stored text, the words shown); a ``detail`` group is the remote side's answer.
_ERRORS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"^No mail server is configured \(MAIL_SERVER\)\.$"),
        _l("No mail server is configured (setting MAIL_SERVER); the message waits."),
    ),
    (
        re.compile(r"^No SMS gateway is configured \(SMS_WEBHOOK_URL\)\.$"),
        _l("No SMS gateway is configured (setting SMS_WEBHOOK_URL); the message waits."),
    ),
    (
        re.compile(r"^SMS_WEBHOOK_URL must be an http or https address\.$"),
        _l("The SMS gateway's address (SMS_WEBHOOK_URL) must begin with http or https."),
    ),
    (
        re.compile(r"^The runner stopped while sending; it may have been sent\.$"),
        _l("The job runner stopped while sending it; it may have been sent."),
    ),
    (
        re.compile(r"^Recipient refused: (?P<detail>.*)$", re.S),
        _l("The mail server refused the recipient: %(detail)s"),
    ),
    (
        re.compile(r"^Gateway answered HTTP (?P<detail>.*)$", re.S),
        _l("The SMS gateway refused the message: HTTP %(detail)s"),
    ),
    (
        re.compile(r"^Gateway unreachable: (?P<detail>.*)$", re.S),
        _l("The SMS gateway could not be reached: %(detail)s"),
    ),
    (
        re.compile(r"^(?P<detail>SMTP \d+: .*)$", re.S),
        _l("The mail server did not accept the message: %(detail)s"),
    ),
    (
        re.compile(r"^Unknown channel (?P<detail>.*)$", re.S),
        _l("This message has an unknown channel: %(detail)s"),
    ),
    (
        re.compile(r"^(?P<detail>\w*(?:Error|Exception|SMTP\w+)\b: .*)$", re.S),
        _l("Sending failed: %(detail)s"),
    ),
]


def error_label(stored: str) -> str:
    """The words for a stored delivery error, in the current language."""
    for pattern, words in _ERRORS:
        match = pattern.match(stored or "")
        if match:
            detail = match.groupdict().get("detail")
            return str(words % {"detail": detail}) if detail is not None else str(words)
    return stored
