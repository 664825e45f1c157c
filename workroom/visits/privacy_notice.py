"""The privacy notice a citizen agrees to at check-in: purpose, who sees the data, how
long it is kept. Each wording has a version; a visit records the version agreed to.

A new wording gets a new version and the old one stays listed, so a device that showed
the old notice (an offline kiosk) can still say which one its visitor agreed to.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from workroom.retention import visitor_months

# What every wording so far says alike.
_PURPOSE_AND_WHO = {
    "title": _l("How we use your information"),
    "purpose": _l(
        "We ask for your name and mobile number only to receive you, to pass your "
        "concern to the deputies and to the agency that can act on it, and to reply to you."
    ),
    "optional": _l(
        "Both are optional. Without a mobile number we cannot reply to you; you can "
        "still follow your concern with the receipt code."
    ),
    "who_sees": _l(
        "The workroom's liaison, the deputies on duty and the congress staff see them. "
        "An agency handling your concern sees them only to reply to you, and never "
        "when you ask us to keep your identity confidential."
    ),
}

_NOTICES = {
    "2026-11": {
        **_PURPOSE_AND_WHO,
        "retention": _l(
            "We delete your name and number %(months)s months after your visit and keep "
            "only statistics that do not identify you."
        ),
    },
    # The retention of a suggestion's citizens counts from its closing, and what is
    # kept of free text is said.
    "2026-12": {
        **_PURPOSE_AND_WHO,
        "retention": _l(
            "We delete your name and number %(months)s months after your visit; when your "
            "concern is handled as a suggestion, %(months)s months after it is closed. "
            "What you told us is kept for statistics, with any phone or ID number in it "
            "masked."
        ),
    },
}

CURRENT_VERSION = "2026-12"
KNOWN_VERSIONS = frozenset(_NOTICES)


@dataclass(frozen=True)
class PrivacyNotice:
    version: str
    title: str
    purpose: str
    optional: str
    who_sees: str
    retention: str
    retention_months: int

    def paragraphs(self) -> list[str]:
        """The notice's text in reading order, below its title."""
        return [self.purpose, self.optional, self.who_sees, self.retention]

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "title": self.title,
            "purpose": self.purpose,
            "optional": self.optional,
            "who_sees": self.who_sees,
            "retention": self.retention,
            "retention_months": self.retention_months,
        }


def retention_months() -> int:
    """The configured retention period of visitors' personal data, in months."""
    return visitor_months()


def privacy_notice(version: str | None = None) -> PrivacyNotice:
    """The notice of ``version`` (the current one by default) in the current language.

    Raises KeyError for a version that never existed.
    """
    version = version or CURRENT_VERSION
    text = _NOTICES[version]
    months = retention_months()
    return PrivacyNotice(
        version=version,
        title=str(text["title"]),
        purpose=str(text["purpose"]),
        optional=str(text["optional"]),
        who_sees=str(text["who_sees"]),
        retention=str(text["retention"]) % {"months": months},
        retention_months=months,
    )
