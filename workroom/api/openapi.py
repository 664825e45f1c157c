"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from workroom.suggestions.models import REPLY_CLASSES, STATUSES
from workroom.visits.checkin import (
    DESCRIPTION_MAX,
    NAME_MAX,
    RECEIPT_ALPHABET,
    RECEIPT_LENGTH,
)
from workroom.visits.privacy_notice import CURRENT_VERSION, KNOWN_VERSIONS

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _with_retry_after(response: dict[str, Any]) -> dict[str, Any]:
    return {
        **response,
        "headers": {
            "Retry-After": {
                "required": True,
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }


_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "Language of labels and messages: Simplified Chinese (default) or `en`.",
    "schema": {"type": "string", "examples": ["zh-CN", "en"]},
}

_RATE_LIMITED = _with_retry_after(
    _error("Too many requests from this client address; see the `Retry-After` header.")
)

# What typed text may hold (workroom.text), as patterns: the space around it (what
# str.strip() removes) is not counted; one line holds no control character, no line
# break and no bidirectional override; a multi-line text keeps its line breaks and tabs
# but holds no other control character nor an override.
_SPACE = (
    r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a"
    r"\u2028\u2029\u202f\u205f\u3000"
)
_OVERRIDES = r"\u202a-\u202e\u2066-\u2069"
_NOT_ON_ONE_LINE = rf"\u0000-\u001f\u007f-\u009f\u2028\u2029{_OVERRIDES}"
_NOT_IN_LINES = rf"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f{_OVERRIDES}"


def _typed(forbidden: str, limit: int) -> str:
    """Text without ``forbidden`` characters, at most ``limit`` once stripped."""
    return rf"^[{_SPACE}]*[^{forbidden}]{{0,{limit}}}[{_SPACE}]*$"


# A mainland mobile number as people write it, or blank (no phone). The server reads
# more forms (brackets, dots, full-width digits); the pattern names the usual ones.
_MOBILE = (
    rf"^(?:[{_SPACE}]*|[{_SPACE}]{{0,4}}(?:\+86|0086|86)?[ -]?1[3-9](?:[ -]?[0-9]){{9}}"
    rf"[{_SPACE}]{{0,4}})$"
)

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "A stable code, e.g. `not_found`."},
            "message": {"type": "string", "description": "In the request's language."},
        },
    },
    "ValidationError": {
        "type": "object",
        "required": ["error", "message", "errors"],
        "properties": {
            "error": {"const": "invalid"},
            "message": {"type": "string"},
            "errors": {
                "type": "object",
                "description": "One message per wrong field, in the request's language. "
                "Keys: `category`, `name`, `phone`, `description`, `consent`, "
                "`privacy_notice`, `body` (not a JSON object), `Idempotency-Key`.",
                "additionalProperties": {"type": "string"},
            },
        },
    },
    "CategoryEntry": {
        "type": "object",
        "required": ["code", "label_zh", "label_en", "label"],
        "properties": {
            "code": {"type": "string", "description": "Stable; send it as `category`."},
            "label_zh": {"type": "string"},
            "label_en": {"type": "string"},
            "label": {"type": "string", "description": "The label in the request's language."},
        },
    },
    "Category": {
        "allOf": [
            _ref("CategoryEntry"),
            {
                "type": "object",
                "required": ["children"],
                "properties": {"children": {"type": "array", "items": _ref("CategoryEntry")}},
            },
        ]
    },
    "PrivacyNotice": {
        "type": "object",
        "required": ["version", "title", "purpose", "who_sees", "retention"],
        "properties": {
            "version": {"type": "string", "examples": [CURRENT_VERSION]},
            "title": {"type": "string"},
            "purpose": {"type": "string"},
            "optional": {"type": "string"},
            "who_sees": {"type": "string"},
            "retention": {"type": "string"},
            "retention_months": {"type": "integer"},
        },
    },
    "OnDuty": {
        "type": "object",
        "required": ["role", "name"],
        "properties": {
            "role": {"enum": ["deputy", "liaison"]},
            "name": {"type": "string", "description": "The deputy's name, or “the liaison”."},
            "level": {
                "type": ["string", "null"],
                "enum": ["national", "provincial", "municipal", "county", "township", None],
            },
            "level_label": {"type": ["string", "null"]},
        },
    },
    "NextReception": {
        "type": "object",
        "required": ["at", "text"],
        "properties": {
            "at": {
                "type": "string",
                "format": "date-time",
                "description": "When the workroom next receives (local time with offset).",
            },
            "reception_day": {
                "type": ["object", "null"],
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "starts_at": {"type": "string", "format": "date-time"},
                    "ends_at": {"type": "string", "format": "date-time"},
                    "deputies": {"type": "array", "items": _ref("OnDuty")},
                },
            },
            "liaison": {
                "type": ["object", "null"],
                "properties": {
                    "opens_at": {"type": "string", "format": "date-time"},
                    "closes_at": {"type": "string", "format": "date-time"},
                    "hours": {"type": "string", "examples": ["09:00-12:00,14:30-17:30"]},
                },
            },
            "text": {"type": "string", "description": "The same in words."},
        },
    },
    "CheckinAnswer": {
        "type": "object",
        "required": ["kind", "ticket", "receipt", "position", "receiving", "on_duty"],
        "properties": {
            "kind": {
                "enum": ["checkin", "message"],
                "description": "`message` outside reception hours: no ticket.",
            },
            "ticket": {
                "type": ["string", "null"],
                "description": "The label to show and call: three digits (`007`) or the "
                "provisional ticket the device issued.",
            },
            "ticket_number": {
                "type": ["integer", "null"],
                "description": "The server's number of the day (1, 2, 3 …) that orders the queue.",
            },
            "ticket_date": {"type": ["string", "null"], "format": "date"},
            "receipt": {
                "type": "string",
                "pattern": f"^[{RECEIPT_ALPHABET}]{{{RECEIPT_LENGTH}}}$",
                "description": "Keep it to follow up (GET /track/{code}).",
            },
            "position": {
                "type": ["integer", "null"],
                "description": "Visitors waiting ahead now; null for a message.",
            },
            "receiving": {"type": "boolean"},
            "on_duty": {"type": "array", "items": _ref("OnDuty")},
            "next_reception": {"oneOf": [_ref("NextReception"), {"type": "null"}]},
            "workroom": {
                "type": "object",
                "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
            },
            "channel": {"enum": ["kiosk", "phone", "staff"]},
            "wants_reply": {"type": "boolean"},
            "privacy_notice": {"type": "string"},
            "arrived_at": {"type": "string", "format": "date-time"},
        },
    },
    "TrackedSuggestion": {
        "type": "object",
        "required": [
            "code",
            "title",
            "status",
            "status_label",
            "submitted_on",
            "steps",
            "reply",
        ],
        "properties": {
            "code": {"type": "string", "description": "The suggestion's tracking code."},
            "title": {"type": "string"},
            "status": {"enum": sorted(STATUSES)},
            "status_label": {"type": "string", "description": "The status, in words."},
            "submitted_on": {"type": "string", "format": "date"},
            "steps": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["on", "step", "label", "agency"],
                    "properties": {
                        "on": {"type": "string", "format": "date"},
                        "step": {"type": "string", "examples": ["submitted", "assigned"]},
                        "label": {"type": "string", "description": "The step, in words."},
                        "agency": {
                            "type": ["string", "null"],
                            "description": "The agency acting, for the steps an agency takes.",
                        },
                    },
                },
            },
            "reply": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["text", "class", "class_label", "on"],
                        "properties": {
                            "text": {"type": "string"},
                            "class": {"enum": [*sorted(REPLY_CLASSES), None]},
                            "class_label": {"type": "string"},
                            "on": {"type": ["string", "null"], "format": "date"},
                        },
                    },
                    {"type": "null"},
                ],
                "description": "The published reply, once there is one.",
            },
        },
    },
    "TrackAnswer": {
        "type": "object",
        "required": ["kind", "visit_on", "suggestions"],
        "properties": {
            "kind": {
                "enum": ["suggestion", "visit"],
                "description": "What the code was: a suggestion's tracking code, or the "
                "receipt of a visit (all the suggestions raised from it).",
            },
            "visit_on": {
                "type": ["string", "null"],
                "format": "date",
                "description": "The day of the visit, for a receipt.",
            },
            "suggestions": {"type": "array", "items": _ref("TrackedSuggestion")},
        },
    },
}


def _checkin_request(category_codes: list[str]) -> dict[str, Any]:
    """The check-in body; ``category_codes`` are the codes a check-in may choose now."""
    category: dict[str, Any] = {
        "type": "string",
        "description": "A category `code`, as listed by `GET /categories` (an administrator "
        "may add or retire categories: this list is the one of the moment).",
    }
    if category_codes:
        category["enum"] = category_codes
    return {
        "type": "object",
        "required": ["category", "consent"],
        "properties": {
            "category": category,
            "name": {
                "type": ["string", "null"],
                "pattern": _typed(_NOT_ON_ONE_LINE, NAME_MAX),
                "description": f"Optional: a visitor may stay anonymous. At most "
                f"{NAME_MAX} characters once the surrounding space is stripped, on one "
                "line: control characters, line breaks and bidirectional overrides are "
                "refused.",
            },
            "phone": {
                "type": ["string", "null"],
                "pattern": _MOBILE,
                "description": "Optional mainland mobile number; giving one asks for a "
                "reply. Spaces, dashes, +86 and full-width digits are accepted; blank "
                "means none.",
                "examples": ["138 0013 8000", "+86 138-0013-8000"],
            },
            "description": {
                "type": ["string", "null"],
                "pattern": _typed(_NOT_IN_LINES, DESCRIPTION_MAX),
                "description": f"Optional, short: at most {DESCRIPTION_MAX} characters "
                "once the surrounding space is stripped. Control characters other than "
                "line breaks and tabs, and bidirectional overrides, are refused; markup "
                "is stored as typed.",
            },
            "consent": {
                "const": True,
                "description": "The visitor agreed to the privacy notice.",
            },
            "privacy_notice": {
                "enum": [*sorted(KNOWN_VERSIONS), "", None],
                "description": "The version of the notice shown; the current one when "
                "absent, empty or null.",
            },
            "provisional_ticket": {
                "description": "A ticket the device issued while offline, "
                "`^[0-9A-Z]{1,8}-[0-9]{1,4}$`: a kiosk's own prefix (`K2-003`, kiosks "
                "only) or `P` and up to 5 characters on a phone (`P7QX-001`). Kept as the "
                "ticket label; any other value, of any type, is ignored, so that a queue "
                "synced from a device is never refused for its label.",
                "examples": ["K2-003", "P7QX-001"],
            },
        },
    }


def openapi_document(
    public_url: str = "", category_codes: list[str] | None = None
) -> dict[str, Any]:
    """The API description; ``public_url`` names the server, ``category_codes`` are the
    categories a check-in may choose (any string when not given)."""
    checkin_responses = {
        "201": _json(
            _ref("CheckinAnswer"),
            "Stored: a ticket while the workroom receives, otherwise a message "
            "(`ticket` null, `next_reception` says when it next receives).",
        ),
        "200": _json(
            _ref("CheckinAnswer"),
            "This Idempotency-Key and body were stored before: the same answer again.",
        ),
        "400": _json(
            _ref("ValidationError"),
            "Wrong or missing fields, no consent, or a missing or malformed "
            "`Idempotency-Key` (then `errors` names only the key).",
        ),
        "401": _error("The kiosk credential is invalid or revoked: pair the kiosk again."),
        "403": _error("The kiosk belongs to another workroom."),
        "404": _error("No active workroom has this slug."),
        "409": _error("This Idempotency-Key was used with a different body."),
        "413": _error("The body is too large."),
        "415": _error("The body is not JSON."),
        "429": _RATE_LIMITED,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Workroom API",
            "version": "1",
            "description": "Citizens' check-in at deputy workrooms and follow-up of their "
            "concerns. Messages and labels follow `Accept-Language` (Simplified Chinese "
            "by default, `en`). Times are local to the workroom, with their offset.",
        },
        "servers": [{"url": f"{public_url.rstrip('/')}/api/v1"}],
        "paths": {
            "/categories": {
                "get": {
                    "operationId": "listCategories",
                    "summary": "The purposes of a visit: top-level categories and their children",
                    "parameters": [_LANGUAGE],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["categories"],
                                "properties": {
                                    "categories": {"type": "array", "items": _ref("Category")}
                                },
                            },
                            "Active categories in display order.",
                        )
                    },
                }
            },
            "/privacy-notice": {
                "get": {
                    "operationId": "getPrivacyNotice",
                    "summary": "The privacy notice to show before a check-in",
                    "parameters": [_LANGUAGE],
                    "responses": {"200": _json(_ref("PrivacyNotice"), "The current notice.")},
                }
            },
            "/workrooms/{slug}/checkins": {
                "post": {
                    "operationId": "createCheckin",
                    "summary": "Check in at a workroom, or leave a message when it is closed",
                    "description": "Repeating a request with the same `Idempotency-Key` never "
                    "stores a second visit. A paired kiosk sends its device credential in "
                    "`X-Kiosk-Credential` (channel `kiosk`, not rate-limited); anything else "
                    "is the channel `phone`. A body that is not JSON (415), too large (413) "
                    "or a missing or malformed `Idempotency-Key` (400) is answered before "
                    "the rate limit counts the request.",
                    "parameters": [
                        {
                            "name": "slug",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "description": "Made once per check-in on the device; resend it "
                            "unchanged with the unchanged body when retrying.",
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,80}$"},
                        },
                        {
                            "name": "X-Kiosk-Credential",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                        },
                        _LANGUAGE,
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("CheckinRequest")}},
                    },
                    "responses": checkin_responses,
                }
            },
            "/track/{code}": {
                "get": {
                    "operationId": "trackConcern",
                    "summary": "Progress of a concern by its receipt or tracking code",
                    "description": "An unknown code and a wrong phone get the same 404. "
                    "After 5 wrong attempts in a day a code is locked for the day.",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "phone4",
                            "in": "query",
                            "required": True,
                            "description": "The last 4 digits of the phone number given.",
                            "schema": {"type": "string", "pattern": "^[0-9]{4}$"},
                        },
                        _LANGUAGE,
                    ],
                    "responses": {
                        "200": _json(_ref("TrackAnswer"), "Status, steps and the reply."),
                        "400": _error("`phone4` is missing or not 4 digits."),
                        "404": _error("Unknown code, wrong digits, or a locked code."),
                        "429": _RATE_LIMITED,
                    },
                }
            },
        },
        "components": {
            "schemas": {**_SCHEMAS, "CheckinRequest": _checkin_request(category_codes or [])}
        },
    }
