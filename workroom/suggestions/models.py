"""Suggestions (意见建议): routing rules, the handling lifecycle and its timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workroom.auth.permissions import own_filter, own_workroom_ids
from workroom.categories.models import Category
from workroom.clock import utcnow
from workroom.db import Timestamped, db
from workroom.people.models import Agency, Deputy, ProfessionalGroup
from workroom.places.models import Area, Workroom
from workroom.visits.models import Visit

SOURCES = {
    "visit": _l("Visit"),
    "deputy": _l("Deputy"),
    "liaison": _l("Liaison"),
    "other": _l("Other"),
}
STATUSES = {
    "triage": _l("Awaiting routing"),
    "assigned": _l("Assigned to an agency"),
    "accepted": _l("Accepted"),
    "replied": _l("Replied"),
    "closed": _l("Closed"),
    "merged": _l("Merged"),
}
REPLY_CLASSES = {
    "A": _l("A — solved"),
    "B": _l("B — being solved"),
    "C": _l("C — needs conditions"),
    "D": _l("D — for reference"),
}
SATISFACTION = {
    "satisfied": _l("Satisfied"),
    "basically": _l("Basically satisfied"),
    "dissatisfied": _l("Dissatisfied"),
}
# citizen: accept within 2 working days, answer within 15 working days;
# deputy: a deputy's formal suggestion, answered within 3 calendar months.
DEADLINE_POLICIES = {"citizen": _l("Citizen's suggestion"), "deputy": _l("Deputy's suggestion")}
# The steps of a suggestion's timeline.
EVENT_KINDS = {
    "submitted": _l("Submitted"),
    "assigned": _l("Assigned to an agency"),
    "accepted": _l("Accepted"),
    "returned": _l("Returned as misassigned"),
    "extension_requested": _l("Extension requested"),
    "extension_approved": _l("Extension approved"),
    "extension_refused": _l("Extension refused"),
    "co_opinion": _l("Co-handler's opinion"),
    "replied": _l("Replied"),
    "followed_up": _l("Followed up"),
    "closed": _l("Closed"),
    "rehandled": _l("Handled again"),
    "merged": _l("Merged"),
}
# How a suggestion was routed (Suggestion.routing_kind): a rule matched; no rule
# matched, so it waits in triage; staff chose the agency where no rule applies, or
# instead of the rule's; the agency returned it. routing.explain_routing says which.
ROUTING_KINDS = ("rule", "no_rule", "manual", "override", "returned")
# How an assignment was decided, on the timeline (the detail of an "assigned" event).
ASSIGNED_BY = {
    "rule": _l("by a routing rule"),
    "manual": _l("chosen by staff"),
    "override": _l("chosen by staff over the rules"),
}
EXTENSION_STATUSES = {
    "pending": _l("Waiting for a decision"),
    "approved": _l("Approved"),
    "refused": _l("Refused"),
    "cancelled": _l("Cancelled"),
}

routing_rule_co_agency = sa.Table(
    "routing_rule_co_agency",
    db.metadata,
    sa.Column("rule_id", sa.ForeignKey("routing_rule.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("agency_id", sa.ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
)


class RoutingRule(Timestamped, db.Model):
    """Category (or sub-category) × area subtree → lead agency and co-handlers."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"), index=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), index=True)
    lead_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("professional_group.id"))
    deadline_policy: Mapped[str] = mapped_column(sa.String(20), default="citizen")
    # Breaks ties between equally specific rules; higher wins.
    priority: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    category: Mapped[Category] = relationship()
    area: Mapped[Area] = relationship()
    lead_agency: Mapped[Agency] = relationship()
    co_agencies: Mapped[list[Agency]] = relationship(secondary=routing_rule_co_agency)
    group: Mapped[ProfessionalGroup | None] = relationship()


class Suggestion(Timestamped, db.Model):
    __tablename__ = "suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    content: Mapped[str] = mapped_column(sa.Text)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"), index=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"), index=True)
    workroom_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workroom.id"), index=True)
    source: Mapped[str] = mapped_column(sa.String(20))
    # 为本人保密: agencies never see who raised it.
    confidential: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(20), default="triage", index=True)
    lead_agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    # The routing decision: its kind (ROUTING_KINDS; "" when not routed yet), the rule
    # that matched, the category and area it names, the agency it sends the suggestion
    # to (or that returned it), and the reason a person gave.
    routing_kind: Mapped[str] = mapped_column(sa.String(20), default="")
    routing_rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("routing_rule.id"))
    routing_category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"))
    routing_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("area.id"))
    routing_agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    routing_note: Mapped[str] = mapped_column(sa.String(500), default="")
    # The decision as text, from before it was stored as data: kept only on rows whose
    # text the migration could not read (routing_kind is empty on them).
    routing_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("professional_group.id"))
    deadline_policy: Mapped[str] = mapped_column(sa.String(20), default="citizen")
    accept_due: Mapped[dt.date | None] = mapped_column(index=True)
    reply_due: Mapped[dt.date | None] = mapped_column(index=True)
    assigned_at: Mapped[dt.datetime | None] = mapped_column()
    accepted_at: Mapped[dt.datetime | None] = mapped_column()
    replied_at: Mapped[dt.datetime | None] = mapped_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    reply_text: Mapped[str] = mapped_column(sa.Text, default="")
    reply_class: Mapped[str | None] = mapped_column(sa.String(1))
    extensions_used: Mapped[int] = mapped_column(default=0)
    rehandle_count: Mapped[int] = mapped_column(default=0)
    # 并案办理: handled under another suggestion; each citizen is still answered.
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("suggestion.id"), index=True)
    deputy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deputy.id"), index=True)
    raised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    # Its citizens removed and the numbers in its text masked after retention.
    purged_at: Mapped[dt.datetime | None] = mapped_column()

    category: Mapped[Category] = relationship(foreign_keys=[category_id])
    area: Mapped[Area] = relationship(foreign_keys=[area_id])
    workroom: Mapped[Workroom | None] = relationship()
    lead_agency: Mapped[Agency | None] = relationship(foreign_keys=[lead_agency_id])
    routing_rule: Mapped[RoutingRule | None] = relationship()
    routing_category: Mapped[Category | None] = relationship(foreign_keys=[routing_category_id])
    routing_area: Mapped[Area | None] = relationship(foreign_keys=[routing_area_id])
    routing_agency: Mapped[Agency | None] = relationship(foreign_keys=[routing_agency_id])
    group: Mapped[ProfessionalGroup | None] = relationship()
    deputy: Mapped[Deputy | None] = relationship()
    merged_into: Mapped[Suggestion | None] = relationship(
        remote_side=[id], back_populates="duplicates"
    )
    duplicates: Mapped[list[Suggestion]] = relationship(
        back_populates="merged_into", order_by="Suggestion.id"
    )
    citizens: Mapped[list[SuggestionCitizen]] = relationship(
        back_populates="suggestion", order_by="SuggestionCitizen.id", cascade="all, delete-orphan"
    )
    agencies: Mapped[list[SuggestionAgency]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan"
    )
    events: Mapped[list[SuggestionEvent]] = relationship(
        back_populates="suggestion", order_by="SuggestionEvent.id", cascade="all, delete-orphan"
    )
    extension_requests: Mapped[list[ExtensionRequest]] = relationship(
        back_populates="suggestion", order_by="ExtensionRequest.id", cascade="all, delete-orphan"
    )

    # The lists' order (newest first), alone and within one status.
    __table_args__ = (
        sa.Index("ix_suggestion_created", "created_at", "id"),
        sa.Index("ix_suggestion_status_created", "status", "created_at", "id"),
        # The deadline filters: open statuses, then the due dates (counted from the index).
        sa.Index("ix_suggestion_status_due", "status", "reply_due", "accept_due"),
    )

    @property
    def status_label(self) -> str:
        return str(STATUSES.get(self.status, self.status))


class SuggestionCitizen(db.Model):
    """A citizen a suggestion came from; each is answered and followed up separately."""

    __tablename__ = "suggestion_citizen"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suggestion.id", ondelete="CASCADE"), index=True
    )
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(50))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    satisfaction: Mapped[str | None] = mapped_column(sa.String(20))
    followed_up_at: Mapped[dt.datetime | None] = mapped_column()
    follow_up_note: Mapped[str] = mapped_column(sa.String(500), default="")
    replied_to_at: Mapped[dt.datetime | None] = mapped_column()
    purged_at: Mapped[dt.datetime | None] = mapped_column()

    suggestion: Mapped[Suggestion] = relationship(back_populates="citizens")
    visit: Mapped[Visit | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("suggestion_id", "visit_id"),)


class SuggestionAgency(db.Model):
    """An agency handling a suggestion, as lead or co-handler (协办)."""

    __tablename__ = "suggestion_agency"

    suggestion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suggestion.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(10), default="lead")
    opinion: Mapped[str] = mapped_column(sa.Text, default="")
    opinion_at: Mapped[dt.datetime | None] = mapped_column()

    suggestion: Mapped[Suggestion] = relationship(back_populates="agencies")
    agency: Mapped[Agency] = relationship()

    # An agency's suggestions: the portal list and the agency filter.
    __table_args__ = (sa.Index("ix_suggestion_agency_agency", "agency_id", "suggestion_id"),)


class SuggestionEvent(db.Model):
    """One step on a suggestion's timeline, with its actor and time."""

    __tablename__ = "suggestion_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suggestion.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(60), default="")
    kind: Mapped[str] = mapped_column(sa.String(30))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # Shown on the public tracking page (e.g. submitted, assigned, replied).
    public: Mapped[bool] = mapped_column(default=False)
    # Whether an acceptance, reply or co-handler's opinion came by its deadline.
    on_time: Mapped[bool | None] = mapped_column()
    # A short code completing the step: the reply class, the satisfaction, a date.
    detail: Mapped[str] = mapped_column(sa.String(40), default="")

    suggestion: Mapped[Suggestion] = relationship(back_populates="events")
    agency: Mapped[Agency | None] = relationship()

    @property
    def kind_label(self) -> str:
        return str(EVENT_KINDS.get(self.kind, self.kind))


class ExtensionRequest(Timestamped, db.Model):
    __tablename__ = "extension_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suggestion.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    requested_due: Mapped[dt.date] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(sa.String(500), default="")

    suggestion: Mapped[Suggestion] = relationship(back_populates="extension_requests")
    agency: Mapped[Agency] = relationship()

    @property
    def status_label(self) -> str:
        return str(EXTENSION_STATUSES.get(self.status, self.status))


class Attachment(Timestamped, db.Model):
    """A citizen's letter or photo, or an agency's stamped reply letter (答复函)."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suggestion.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20), default="citizen")
    # The agency that uploaded it (reply letters); None for staff uploads.
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(60))
    size: Mapped[int] = mapped_column()
    # Relative to ATTACHMENT_PATH; never derived from the uploaded name.
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    purged_at: Mapped[dt.datetime | None] = mapped_column()


class TrackingAttempt(db.Model):
    """Wrong phone digits for a code on a day; five lock the code for that day."""

    __tablename__ = "tracking_attempt"

    code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)


@own_filter(Suggestion)
def _own_suggestions(user: Any) -> sa.ColumnElement[bool]:
    """Liaison: its workrooms' and its own; deputy: its own and its workrooms';
    agency handler: those its agency handles as lead or co-handler."""
    if user.role == "agency_handler":
        if not user.agency_id:
            return sa.false()
        return Suggestion.id.in_(
            sa.select(SuggestionAgency.suggestion_id).where(
                SuggestionAgency.agency_id == user.agency_id
            )
        )
    mine = Suggestion.raised_by_id == user.id
    if user.role == "deputy" and user.deputy_id:
        mine = sa.or_(mine, Suggestion.deputy_id == user.deputy_id)
    return sa.or_(mine, Suggestion.workroom_id.in_(own_workroom_ids(user)))
