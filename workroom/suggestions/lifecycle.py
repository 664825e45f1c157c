"""The handling lifecycle of a suggestion.

triage → assigned (交办) → accepted (签收) → replied (答复) → follow-up (回访) → closed,
with returns (退办), extensions, co-handlers' opinions, re-handling (重新办理) and
merging (并案办理). Each step is one function: it checks the step is allowed (a
Conflict, HTTP 409, when the state does not fit; a DomainError naming the field for
bad input) before changing anything, appends exactly one event to a timeline, and
queues its notifications in the outbox. Raising, assigning and merging a suggestion
are also written to the audit log. The caller commits.

``now`` is the moment of the step (naive UTC, or aware); deadlines count local dates
in the configured zone. ``actor`` is the signed-in user, or None for the system.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from workroom import messenger
from workroom.audit.log import record
from workroom.categories.models import Category
from workroom.clock import as_utc_naive, local_date
from workroom.db import db, increment, lock
from workroom.errors import Conflict, DomainError
from workroom.people.models import Agency, Deputy
from workroom.places.models import Area, Workroom
from workroom.privacy import normalize_phone
from workroom.suggestions.deadlines import (
    compute_deadlines,
    deadline_state,
    extension_limit,
)
from workroom.suggestions.models import (
    DEADLINE_POLICIES,
    REPLY_CLASSES,
    SATISFACTION,
    SOURCES,
    ExtensionRequest,
    Suggestion,
    SuggestionAgency,
    SuggestionCitizen,
    SuggestionEvent,
)
from workroom.suggestions.routing import RouteDecision, route
from workroom.text import check_text
from workroom.visits.checkin import new_receipt_code
from workroom.visits.models import Visit
from workroom.workdays.calendar import working_days_between

__all__ = [
    "accept",
    "assign",
    "close",
    "co_opinion",
    "deadline_state",
    "decide_extension",
    "group_citizens",
    "handling_suggestion",
    "merge",
    "record_follow_up",
    "rehandle",
    "reply",
    "request_extension",
    "return_misassigned",
    "submit",
]

OPEN = ("assigned", "accepted")
MERGEABLE = ("triage", "assigned", "accepted")
TITLE_MAX, TEXT_MAX, NOTE_MAX = 200, 10000, 500


# Helpers


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def _text(
    value: str | None,
    field: str,
    *,
    required: bool,
    limit: int,
    message: Any,
    multiline: bool = True,
) -> str:
    value = check_text(value or "", field, multiline=multiline)
    if required and not value:
        raise DomainError(message, field)
    if len(value) > limit:
        raise DomainError(_l("Use at most %(n)s characters.", n=limit), field)
    return value


def _reason(value: str | None) -> str:
    return _text(value, "reason", required=True, limit=NOTE_MAX, message=_l("Give a reason."))


def _event(
    s: Suggestion,
    kind: str,
    *,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    public: bool = False,
    agency: Agency | None = None,
    on_time: bool | None = None,
    detail: str = "",
) -> SuggestionEvent:
    event = SuggestionEvent(
        kind=kind,
        at=as_utc_naive(now),
        actor_id=getattr(actor, "id", None),
        actor_name=str(actor)[:60] if actor is not None else "",
        agency=agency,
        note=note,
        public=public,
        on_time=on_time,
        detail=detail[:40],
    )
    s.events.append(event)
    return event


def _step(s: Suggestion) -> int:
    """A number unique to the latest step of ``s`` (for dedupe keys)."""
    return len(s.events)


def _take(s: Suggestion, allowed: Sequence[str], message: Any) -> None:
    """Take ``s`` for update, then require one of the ``allowed`` statuses (Conflict).

    Every step starts here, so two people acting on one suggestion at once act one
    after the other, and the second sees the first's step."""
    lock(s)
    if s.status not in allowed:
        raise Conflict(message)


def _require_lead(s: Suggestion, agency: Agency | None) -> None:
    if agency is None or s.lead_agency_id != agency.id:
        raise Conflict(_l("Only the lead agency can do this."))


def _pending_requests(s: Suggestion) -> list[ExtensionRequest]:
    return [r for r in s.extension_requests if r.status == "pending"]


def _cancel_pending(s: Suggestion, now: dt.datetime) -> None:
    for request in _pending_requests(s):
        request.status = "cancelled"
        request.decided_at = as_utc_naive(now)


def handling_suggestion(s: Suggestion) -> Suggestion:
    """The suggestion that carries the handling: the one ``s`` was merged into, or ``s``."""
    return s.merged_into if s.status == "merged" and s.merged_into is not None else s


def group_citizens(s: Suggestion) -> list[SuggestionCitizen]:
    """Every citizen answered by the handling of ``s``: its own and its duplicates'."""
    handling = handling_suggestion(s)
    return [c for member in (handling, *handling.duplicates) for c in member.citizens]


def _check_agencies(
    lead: Agency | None, co_agencies: Iterable[Agency]
) -> tuple[Agency, list[Agency]]:
    if lead is None:
        raise DomainError(_l("Choose the lead agency."), "lead_agency_id")
    if not lead.active:
        raise DomainError(_l("This agency is inactive."), "lead_agency_id")
    co = list(dict.fromkeys(co_agencies))
    for agency in co:
        if agency.id == lead.id:
            raise DomainError(
                _l("The lead agency cannot also be a co-handling agency."), "co_agency_ids"
            )
        if not agency.active:
            raise DomainError(_l("%(name)s is inactive.", name=agency.name), "co_agency_ids")
    return lead, co


def _set_agencies(s: Suggestion, lead: Agency, co: list[Agency]) -> None:
    existing = {link.agency_id: link for link in s.agencies}
    links = []
    for agency, role in [(lead, "lead"), *((a, "co") for a in co)]:
        link = existing.pop(agency.id, None) or SuggestionAgency(agency=agency)
        link.role = role
        links.append(link)
    s.agencies = links


def _tell_agencies(
    s: Suggestion,
    agencies: Iterable[Agency],
    key: str,
    template: str,
    now: dt.datetime,
    **context: Any,
) -> None:
    """Email each agency about ``s`` under ``<key>:agency<id>`` (templates/email/)."""
    for agency in agencies:
        messenger.tell(
            messenger.agency(agency),
            f"{key}:agency{agency.id}",
            now,
            email=template,
            context={"suggestion": s, **context},
        )


def _tell_liaisons(
    s: Suggestion, key: str, template: str, now: dt.datetime, **context: Any
) -> None:
    """Email the liaisons of the suggestion's workroom under ``<key>:user<id>``."""
    if s.workroom_id is None:
        return
    for liaison in messenger.liaisons([s.workroom_id]).get(s.workroom_id, []):
        messenger.tell(
            liaison,
            f"{key}:user{liaison.id}",
            now,
            email=template,
            context={"suggestion": s, **context},
        )


def _set_routing(
    s: Suggestion,
    kind: str,
    *,
    decision: RouteDecision | None = None,
    agency: Agency | None = None,
    note: str = "",
) -> None:
    """Store how ``s`` was routed: ``kind`` (ROUTING_KINDS), the rule, category and area
    of the rules' ``decision`` when it is a "rule" or "no_rule" one, the ``agency`` it
    goes to or comes back from, and the reason a person gave."""
    rule = category = area = None
    if decision is not None and kind in ("rule", "no_rule"):
        rule, category, area = decision.rule, decision.matched_category, decision.matched_area
    s.routing_kind = kind
    s.routing_rule = rule
    s.routing_category = category
    s.routing_area = area
    s.routing_agency = agency
    s.routing_note = note[:500]
    s.routing_reason = ""


def _assign_to(
    s: Suggestion,
    *,
    lead: Agency,
    co: list[Agency],
    now: dt.datetime,
    actor: Any,
    group: Any,
    policy: str,
) -> None:
    s.status = "assigned"
    s.lead_agency = lead
    s.group = group
    s.deadline_policy = policy
    s.assigned_at = as_utc_naive(now)
    s.accepted_at = None
    s.accept_due, s.reply_due = compute_deadlines(policy, local_date(now))
    _set_agencies(s, lead, co)
    _cancel_pending(s, now)
    _event(
        s,
        "assigned",
        now=now,
        actor=actor,
        note=s.routing_note,
        public=True,
        agency=lead,
        detail=s.routing_kind,
    )
    key = f"assigned:{s.id}:{_step(s)}"
    _tell_agencies(s, [lead], key, "suggestion_assigned.txt", now, lead=True)
    _tell_agencies(s, co, key, "suggestion_assigned.txt", now, lead=False)


# Intake


def _new_tracking_code() -> str:
    """A fresh code shaped like a visit's receipt code (8 unambiguous characters), used
    by no suggestion and no visit (/track takes both)."""
    for _attempt in range(50):
        code = new_receipt_code()
        taken = db.session.scalar(
            sa.select(Suggestion.id).where(Suggestion.tracking_code == code)
        ) or db.session.scalar(sa.select(Visit.id).where(Visit.receipt_code == code))
        if not taken:
            return code
    raise RuntimeError("no free tracking code")  # pragma: no cover - 31**8 codes


def _clean_citizens(citizens: Iterable[dict[str, Any]]) -> list[SuggestionCitizen]:
    cleaned: list[SuggestionCitizen] = []
    seen_visits: set[int] = set()
    for entry in citizens:
        visit: Visit | None = entry.get("visit")
        name = (entry.get("name") or "").strip() or None
        phone = (entry.get("phone") or "").strip() or None
        if visit is not None:
            if visit.id in seen_visits:
                continue
            seen_visits.add(visit.id)
            if visit.purged_at is None:
                name = name or visit.visitor_name
                phone = phone or visit.phone
        if name is not None and len(name) > 50:
            raise DomainError(_l("Use at most %(n)s characters.", n=50), "name")
        if phone is not None:
            phone = normalize_phone(phone, "phone")
        cleaned.append(SuggestionCitizen(visit=visit, name=name, phone=phone))
    return cleaned


def submit(
    *,
    title: str,
    content: str,
    category: Category | None,
    area: Area | None,
    source: str,
    now: dt.datetime,
    actor: Any,
    workroom: Workroom | None = None,
    citizens: Iterable[dict[str, Any]] = (),
    confidential: bool = False,
    deputy: Deputy | None = None,
    deadline_policy: str | None = None,
) -> Suggestion:
    """Record a new suggestion and route it.

    It gets a tracking code of 8 unambiguous characters. A matching routing rule
    assigns it at once (lead and co-handling agencies, deadlines); otherwise it waits
    in triage. Either way the decision is stored. ``citizens`` are dicts with
    "visit", "name" and "phone"; a visit supplies the name and phone not given.
    ``deadline_policy`` overrides the rule's ("citizen" or "deputy"); without a rule
    a deputy's suggestion follows the deputy policy. Audited as "suggestion.create".
    Raises DomainError for a missing title or content, a missing or inactive category
    or area, an unknown source or policy, or a malformed phone number.
    """
    title = _text(
        title,
        "title",
        required=True,
        limit=TITLE_MAX,
        message=_l("Enter a title."),
        multiline=False,
    )
    content = _text(
        content, "content", required=True, limit=TEXT_MAX, message=_l("Describe the suggestion.")
    )
    if category is None or not category.active:
        raise DomainError(_l("Choose a category."), "category_id")
    if area is None or not area.active:
        raise DomainError(_l("Choose an area."), "area_id")
    if source not in SOURCES:
        raise DomainError(_l("Choose where the suggestion comes from."), "source")
    if deadline_policy is not None and deadline_policy not in DEADLINE_POLICIES:
        raise DomainError(_l("Choose a deadline policy."), "deadline_policy")
    people = _clean_citizens(citizens)
    s = Suggestion(
        tracking_code=_new_tracking_code(),
        title=title,
        content=content,
        category=category,
        area=area,
        workroom=workroom,
        source=source,
        confidential=bool(confidential),
        status="triage",
        deputy=deputy,
        raised_by_id=getattr(actor, "id", None),
        deadline_policy=deadline_policy or ("deputy" if source == "deputy" else "citizen"),
        routing_kind="",
        routing_note="",
        routing_reason="",
        reply_text="",
        extensions_used=0,
        rehandle_count=0,
        created_at=as_utc_naive(now),
        updated_at=as_utc_naive(now),
    )
    s.citizens = people
    db.session.add(s)
    _event(s, "submitted", now=now, actor=actor, public=True)
    db.session.flush()
    decision = route(category, area)
    _set_routing(s, decision.kind, decision=decision, agency=decision.lead_agency)
    if decision.rule is not None:
        _assign_to(
            s,
            lead=decision.lead_agency,  # type: ignore[arg-type]
            co=decision.co_agencies,
            now=now,
            actor=actor,
            group=decision.group,
            policy=deadline_policy or decision.deadline_policy,
        )
    record(
        "suggestion.create",
        s,
        summary=f"{s.tracking_code}: {s.title}",
        actor=actor,
        at=as_utc_naive(now),
    )
    return s


# Routing by staff


def assign(
    s: Suggestion,
    *,
    lead_agency: Agency | None,
    co_agencies: Iterable[Agency] = (),
    now: dt.datetime,
    actor: Any,
    reason: str = "",
    override: bool = False,
    deadline_policy: str | None = None,
) -> None:
    """Assign (交办) a suggestion from triage, or re-route one being handled.

    Deadlines start again from ``now``. A reason is required when re-routing, when
    ``override`` is set, and when the lead agency differs from the one the rules
    choose. Audited as "suggestion.assign". Raises Conflict unless the suggestion is
    in triage, assigned or accepted, or when nothing would change; DomainError for a
    missing or inactive agency, the lead among the co-handlers, a missing reason or an
    unknown policy.
    """
    _take(s, ("triage", *OPEN), _l("Only a suggestion in triage or being handled can be assigned."))
    lead, co = _check_agencies(lead_agency, co_agencies)
    if deadline_policy is not None and deadline_policy not in DEADLINE_POLICIES:
        raise DomainError(_l("Choose a deadline policy."), "deadline_policy")
    reason = _text(reason, "reason", required=False, limit=NOTE_MAX, message="")
    if (
        s.status in OPEN
        and s.lead_agency_id == lead.id
        and {link.agency_id for link in s.agencies if link.role == "co"} == {a.id for a in co}
        and deadline_policy in (None, s.deadline_policy)
    ):
        raise Conflict(_l("The suggestion is already assigned to these agencies."))
    decision = route(s.category, s.area)
    follows_rule = decision.rule is not None and decision.lead_agency.id == lead.id and not override
    needs_reason = (
        override or s.status != "triage" or (decision.rule is not None and not follows_rule)
    )
    if needs_reason and not reason:
        raise DomainError(_l("Give a reason for choosing this agency."), "reason")
    if follows_rule:
        kind, policy = "rule", deadline_policy or decision.deadline_policy
    else:
        kind = "override" if decision.rule is not None else "manual"
        policy = deadline_policy or s.deadline_policy
    _set_routing(s, kind, decision=decision, agency=lead, note=reason)
    _assign_to(s, lead=lead, co=co, now=now, actor=actor, group=decision.group, policy=policy)
    record(
        "suggestion.assign",
        s,
        summary=f"{s.tracking_code} → {lead.name}",
        actor=actor,
        at=as_utc_naive(now),
    )


# The agency's steps


def accept(s: Suggestion, *, agency: Agency | None, now: dt.datetime, actor: Any) -> None:
    """The lead agency accepts (签收) an assigned suggestion; the event records whether
    it was on time. Raises Conflict for another status or another agency."""
    _take(s, ("assigned",), _l("Only an assigned suggestion can be accepted."))
    _require_lead(s, agency)
    on_time = s.accept_due is None or local_date(now) <= s.accept_due
    s.status = "accepted"
    s.accepted_at = as_utc_naive(now)
    _event(s, "accepted", now=now, actor=actor, public=True, agency=agency, on_time=on_time)


def return_misassigned(
    s: Suggestion, *, agency: Agency | None, reason: str, now: dt.datetime, actor: Any
) -> None:
    """The lead agency returns (退办) a suggestion that is not its business: back to
    triage, agencies and deadlines cleared, liaisons told.

    Allowed within RETURN_LIMIT_WORKING_DAYS (default 3) working days of the
    assignment. Raises Conflict for another status, another agency or too late;
    DomainError without a reason.
    """
    _take(s, OPEN, _l("Only a suggestion being handled can be returned."))
    _require_lead(s, agency)
    reason = _reason(reason)
    limit = _setting("RETURN_LIMIT_WORKING_DAYS", 3)
    if s.assigned_at is not None:
        elapsed = working_days_between(local_date(s.assigned_at), local_date(now))
        if elapsed > limit:
            raise Conflict(
                _l(
                    "A suggestion can be returned only within %(n)s working days of its "
                    "assignment.",
                    n=limit,
                )
            )
    s.status = "triage"
    s.lead_agency = None
    _set_routing(s, "returned", agency=agency, note=reason)
    s.agencies = []
    s.accept_due = s.reply_due = None
    s.assigned_at = s.accepted_at = None
    _cancel_pending(s, now)
    _event(s, "returned", now=now, actor=actor, note=reason, agency=agency)
    _tell_liaisons(
        s,
        f"returned:{s.id}:{_step(s)}",
        "suggestion_returned.txt",
        now,
        agency=agency,
        reason=reason,
    )


def request_extension(
    s: Suggestion,
    *,
    agency: Agency | None,
    requested_due: dt.date | None,
    reason: str,
    now: dt.datetime,
    actor: Any,
) -> ExtensionRequest:
    """The lead agency asks to move the answer deadline; staff decide.

    One extension per handling: up to EXTENSION_MAX_WORKING_DAYS (default 15) working
    days for a citizen's suggestion, up to DEPUTY_EXTENSION_MAX_MONTHS (default 3)
    months for a deputy's. Raises Conflict for another status or agency, a request
    already waiting or an extension already granted; DomainError for a missing
    reason or a date not after the deadline or beyond the limit.
    """
    _take(s, OPEN, _l("Only a suggestion being handled can be extended."))
    _require_lead(s, agency)
    if _pending_requests(s):
        raise Conflict(_l("An extension request is already waiting for a decision."))
    if s.extensions_used >= 1:
        raise Conflict(_l("The deadline has already been extended once."))
    reason = _reason(reason)
    if requested_due is None:
        raise DomainError(_l("Enter the new deadline."), "requested_due")
    if s.reply_due is not None:
        if requested_due <= s.reply_due:
            raise DomainError(
                _l("Choose a day after the current deadline, %(date)s.", date=s.reply_due),
                "requested_due",
            )
        limit = extension_limit(s.deadline_policy, s.reply_due)
        if requested_due > limit:
            raise DomainError(
                _l("An extension can reach %(date)s at the latest.", date=limit),
                "requested_due",
            )
    request = ExtensionRequest(
        agency=agency,
        requested_due=requested_due,
        reason=reason,
        status="pending",
        decision_note="",
        created_at=as_utc_naive(now),
        updated_at=as_utc_naive(now),
    )
    s.extension_requests.append(request)
    _event(
        s,
        "extension_requested",
        now=now,
        actor=actor,
        note=reason,
        agency=agency,
        detail=requested_due.isoformat(),
    )
    db.session.flush()
    _tell_liaisons(
        s, f"extension-requested:{request.id}", "extension_requested.txt", now, extension=request
    )
    return request


def decide_extension(
    request: ExtensionRequest, *, approve: bool, now: dt.datetime, actor: Any, note: str = ""
) -> None:
    """Staff approve or refuse an extension request; only approval moves the deadline.

    Raises Conflict when the request was already decided or, on approval, when the
    suggestion is no longer being handled; DomainError for an over-long note.
    """
    lock(request.suggestion, request)
    if request.status != "pending":
        raise Conflict(_l("This request was already decided."))
    s = request.suggestion
    if approve and (s.status not in OPEN or s.lead_agency_id != request.agency_id):
        raise Conflict(_l("The suggestion is no longer being handled by this agency."))
    note = _text(note, "note", required=False, limit=NOTE_MAX, message="")
    request.status = "approved" if approve else "refused"
    request.decided_by_id = getattr(actor, "id", None)
    request.decided_at = as_utc_naive(now)
    request.decision_note = note
    if approve:
        s.reply_due = request.requested_due
        increment(s, "extensions_used")
    _event(
        s,
        "extension_approved" if approve else "extension_refused",
        now=now,
        actor=actor,
        note=note,
        agency=request.agency,
        detail=request.requested_due.isoformat(),
    )
    _tell_agencies(
        s,
        [request.agency],
        f"extension-decided:{request.id}",
        "extension_decided.txt",
        now,
        extension=request,
    )


def co_opinion(
    s: Suggestion, *, agency: Agency | None, opinion: str, now: dt.datetime, actor: Any
) -> None:
    """A co-handling agency (协办) sends its opinion to the lead agency, which is told.

    Sending again replaces the opinion. The event records whether it came before the
    answer deadline. Raises Conflict unless the suggestion is being handled and the
    agency co-handles it; DomainError for an empty opinion.
    """
    _take(s, OPEN, _l("Opinions are sent while the suggestion is being handled."))
    link = next(
        (
            x
            for x in s.agencies
            if agency is not None and x.agency_id == agency.id and x.role == "co"
        ),
        None,
    )
    if link is None:
        raise Conflict(_l("Only a co-handling agency sends an opinion."))
    opinion = _text(
        opinion, "opinion", required=True, limit=TEXT_MAX, message=_l("Write the opinion.")
    )
    link.opinion = opinion
    link.opinion_at = as_utc_naive(now)
    on_time = s.reply_due is None or local_date(now) <= s.reply_due
    _event(s, "co_opinion", now=now, actor=actor, note=opinion, agency=agency, on_time=on_time)
    _tell_agencies(
        s,
        [s.lead_agency] if s.lead_agency is not None else [],
        f"co-opinion:{s.id}:{_step(s)}",
        "co_opinion.txt",
        now,
        agency=agency,
    )


def reply(
    s: Suggestion,
    *,
    agency: Agency | None,
    text: str,
    reply_class: str,
    now: dt.datetime,
    actor: Any,
) -> None:
    """The lead agency answers (答复) an accepted suggestion, with a class A–D.

    Every citizen of the suggestion and of the suggestions merged into it is answered
    separately: each with a mobile number gets an SMS (template SUGGESTION_REPLIED,
    parameter "code": the citizen's own tracking code). Pending extension requests
    are cancelled. Raises Conflict for another status or agency; DomainError for an
    empty text or an unknown class.
    """
    _take(s, ("accepted",), _l("Only an accepted suggestion can be answered."))
    _require_lead(s, agency)
    text = _text(text, "text", required=True, limit=TEXT_MAX, message=_l("Write the answer."))
    if reply_class not in REPLY_CLASSES:
        raise DomainError(_l("Choose the class of the answer."), "reply_class")
    on_time = s.reply_due is None or local_date(now) <= s.reply_due
    s.status = "replied"
    s.reply_text = text
    s.reply_class = reply_class
    s.replied_at = as_utc_naive(now)
    _cancel_pending(s, now)
    _event(
        s,
        "replied",
        now=now,
        actor=actor,
        note=text,
        public=True,
        agency=agency,
        on_time=on_time,
        detail=reply_class,
    )
    for citizen in group_citizens(s):
        citizen.replied_to_at = as_utc_naive(now)
        phone = citizen.phone if citizen.purged_at is None else None
        messenger.tell(
            messenger.citizen(phone, citizen.name),
            f"replied:{s.id}:{citizen.id}:{s.rehandle_count}",
            now,
            sms="SUGGESTION_REPLIED",
            params={"code": citizen.suggestion.tracking_code},
        )


# Staff follow-up and closing


def record_follow_up(
    s: Suggestion,
    citizen: SuggestionCitizen,
    *,
    satisfaction: str,
    note: str = "",
    now: dt.datetime,
    actor: Any,
) -> None:
    """Staff record a citizen's satisfaction (回访) after the answer.

    ``s`` is the handling suggestion or the citizen's own (merged) one. Raises
    Conflict before the answer, for a citizen outside the suggestion or already
    followed up; DomainError for an unknown satisfaction or an over-long note.
    """
    handling = handling_suggestion(s)
    _take(handling, ("replied",), _l("Follow-up is recorded once the suggestion is answered."))
    if citizen not in group_citizens(handling):
        raise Conflict(_l("This citizen does not belong to the suggestion."))
    if citizen.followed_up_at is not None:
        raise Conflict(_l("This citizen's follow-up is already recorded."))
    if satisfaction not in SATISFACTION:
        raise DomainError(_l("Choose how satisfied the citizen is."), "satisfaction")
    note = _text(note, "note", required=False, limit=NOTE_MAX, message="")
    citizen.satisfaction = satisfaction
    citizen.follow_up_note = note
    citizen.followed_up_at = as_utc_naive(now)
    _event(citizen.suggestion, "followed_up", now=now, actor=actor, note=note, detail=satisfaction)


def close(s: Suggestion, *, now: dt.datetime, actor: Any) -> None:
    """Close an answered suggestion once every citizen was followed up (or it has none).

    Raises Conflict for another status or while a citizen's follow-up is missing.
    """
    _take(s, ("replied",), _l("Only an answered suggestion can be closed."))
    missing = [c for c in group_citizens(s) if c.followed_up_at is None]
    if missing:
        raise Conflict(
            _l(
                "Record the follow-up with every citizen first (%(n)s left).",
                n=len(missing),
            )
        )
    s.status = "closed"
    s.closed_at = as_utc_naive(now)
    _event(s, "closed", now=now, actor=actor, public=True)


def rehandle(s: Suggestion, *, now: dt.datetime, actor: Any, reason: str) -> None:
    """Send an answered or closed suggestion back to its agency (重新办理) because a
    citizen is dissatisfied: assigned again with new deadlines, follow-ups cleared.

    At most REHANDLE_MAX (default 2) times. Raises Conflict for another status, when
    no citizen is dissatisfied or the limit is reached; DomainError without a reason.
    """
    _take(
        s, ("replied", "closed"), _l("Only an answered or closed suggestion can be handled again.")
    )
    citizens = group_citizens(s)
    if not any(c.satisfaction == "dissatisfied" for c in citizens):
        raise Conflict(_l("A suggestion is handled again only when a citizen is dissatisfied."))
    limit = _setting("REHANDLE_MAX", 2)
    if s.rehandle_count >= limit:
        raise Conflict(
            _l("This suggestion was already handled again %(n)s times, the most allowed.", n=limit)
        )
    if s.lead_agency is None:
        raise Conflict(_l("The suggestion has no lead agency."))
    reason = _reason(reason)
    s.status = "assigned"
    increment(s, "rehandle_count")
    s.assigned_at = as_utc_naive(now)
    s.accepted_at = s.replied_at = s.closed_at = None
    # Its retention counts again from the next closing.
    s.purged_at = None
    s.reply_text = ""
    s.reply_class = None
    s.extensions_used = 0
    s.accept_due, s.reply_due = compute_deadlines(s.deadline_policy, local_date(now))
    for citizen in citizens:
        citizen.satisfaction = None
        citizen.followed_up_at = None
        citizen.follow_up_note = ""
        citizen.replied_to_at = None
    _event(s, "rehandled", now=now, actor=actor, note=reason, public=True, agency=s.lead_agency)
    _tell_agencies(
        s,
        [link.agency for link in s.agencies],
        f"rehandled:{s.id}:{s.rehandle_count}",
        "suggestion_rehandled.txt",
        now,
        reason=reason,
    )


def merge(duplicate: Suggestion, *, into: Suggestion, now: dt.datetime, actor: Any) -> None:
    """Handle ``duplicate`` together with ``into`` (并案办理): it stops being handled on
    its own, and its citizens are answered and followed up with ``into``'s.

    Suggestions merged into ``duplicate`` move to ``into``. Audited as
    "suggestion.merge". Raises Conflict when both are the same, or either is answered,
    closed or merged.
    """
    if duplicate.id == into.id:
        raise Conflict(_l("A suggestion cannot be merged into itself."))
    # Both, ids ascending: two merges of the same pair in opposite directions never wait
    # for each other.
    lock(*sorted((duplicate, into), key=lambda x: x.id))
    _take(duplicate, MERGEABLE, _l("Only a suggestion not yet answered can be merged."))
    _take(into, MERGEABLE, _l("Merge into a suggestion not yet answered."))
    for other in list(duplicate.duplicates):
        other.merged_into = into
    duplicate.status = "merged"
    duplicate.merged_into = into
    duplicate.accept_due = duplicate.reply_due = None
    _cancel_pending(duplicate, now)
    _event(duplicate, "merged", now=now, actor=actor, public=True, detail=str(into.id))
    record(
        "suggestion.merge",
        duplicate,
        summary=f"{duplicate.tracking_code} → {into.tracking_code}",
        actor=actor,
        at=as_utc_naive(now),
    )
