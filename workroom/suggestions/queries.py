"""Which suggestions a list holds: the filters in one place.

The staff list, the agency portal and their exports select their rows with
``suggestions_query``; a report over suggestions narrows them the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa

from workroom.auth.permissions import scoped
from workroom.categories.models import category_subtree_ids
from workroom.clock import Period, local_day_bounds
from workroom.places.models import area_subtree_ids
from workroom.suggestions.deadlines import DEADLINE_STATES, deadline_filter
from workroom.suggestions.models import STATUSES, Suggestion, SuggestionAgency
from workroom.workdays.calendar import WorkingCalendar

# An agency's part in handling a suggestion.
AGENCY_ROLES = ("lead", "co")


@dataclasses.dataclass(frozen=True)
class SuggestionFilter:
    """What a list of suggestions is narrowed to; a field left empty narrows nothing.

    ``category_id`` and ``area_id`` take their subtrees in; ``agency_id`` is an agency
    handling the suggestion, as lead or co-handler, or only in ``agency_role``;
    ``since`` and ``until`` are local dates of submission, both included. Raises
    ValueError for a status, deadline state or role that does not exist.
    """

    status: str = ""
    category_id: int | None = None
    area_id: int | None = None
    agency_id: int | None = None
    agency_role: str = ""
    workroom_id: int | None = None
    deadline: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.status and self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.deadline and self.deadline not in DEADLINE_STATES:
            raise ValueError(f"unknown deadline state {self.deadline!r}")
        if self.agency_role and (self.agency_role not in AGENCY_ROLES or not self.agency_id):
            raise ValueError(f"agency role {self.agency_role!r} needs an agency")

    @classmethod
    def in_period(cls, period: Period, **fields: Any) -> SuggestionFilter:
        """The suggestions submitted in ``period``, narrowed by ``fields`` too."""
        return cls(since=period.first, until=period.last, **fields)


def suggestions_query(
    f: SuggestionFilter,
    *,
    user: Any,
    permission: str = "suggestion.view",
    today: dt.date,
    calendar: WorkingCalendar | None = None,
) -> sa.Select:
    """The suggestions ``f`` selects that ``user`` reaches with ``permission``, newest
    first; with ``user`` None every suggestion (reports, jobs). ``today`` and
    ``calendar`` place the deadline states."""
    stmt = sa.select(Suggestion)
    if user is not None:
        stmt = scoped(stmt, Suggestion, permission, user)
    if f.status:
        stmt = stmt.where(Suggestion.status == f.status)
    if f.deadline:
        stmt = stmt.where(deadline_filter(f.deadline, today, calendar))
    if f.category_id:
        stmt = stmt.where(Suggestion.category_id.in_(category_subtree_ids(f.category_id)))
    if f.area_id:
        stmt = stmt.where(Suggestion.area_id.in_(area_subtree_ids(f.area_id)))
    if f.agency_id:
        handled = sa.select(SuggestionAgency.suggestion_id).where(
            SuggestionAgency.agency_id == f.agency_id
        )
        if f.agency_role:
            handled = handled.where(SuggestionAgency.role == f.agency_role)
        stmt = stmt.where(Suggestion.id.in_(handled))
    if f.workroom_id:
        stmt = stmt.where(Suggestion.workroom_id == f.workroom_id)
    if f.since:
        stmt = stmt.where(Suggestion.created_at >= local_day_bounds(f.since)[0])
    if f.until:
        stmt = stmt.where(Suggestion.created_at < local_day_bounds(f.until)[1])
    return stmt.order_by(Suggestion.created_at.desc(), Suggestion.id.desc())
