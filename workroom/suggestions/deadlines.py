"""Deadlines of suggestions on the shared working-day calendar, and the job that warns
before them and escalates after them.

Policies (defaults, each a setting):
- ``citizen``: accepted within ACCEPT_WORKING_DAYS (2) and answered within
  REPLY_WORKING_DAYS (15) working days of assignment; extendable once by up to
  EXTENSION_MAX_WORKING_DAYS (15) working days.
- ``deputy`` (a deputy's formal suggestion): accepted within ACCEPT_WORKING_DAYS and
  answered within DEPUTY_REPLY_MONTHS (3) calendar months; extendable once by up to
  DEPUTY_EXTENSION_MAX_MONTHS (3) months.
A deadline counted in months that falls on a day off moves to the next working day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy.orm import selectinload

from workroom import messenger
from workroom.clock import local_date
from workroom.db import db
from workroom.people.models import Agency
from workroom.suggestions.models import Suggestion, SuggestionAgency
from workroom.workdays.calendar import (
    WorkingCalendar,
    add_working_days,
    next_working_day,
    working_calendar,
)

OPEN_STATUSES = ("assigned", "accepted")
# Lists call a deadline "due soon" within this many working days.
DUE_SOON_WORKING_DAYS = 3

DEADLINE_STATES = ("on_time", "due_soon", "overdue")


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, on the next working day when that is a day off.

    Month ends stay inside the month: 31 January plus 3 months is 30 April.
    """
    return next_working_day(day + relativedelta(months=months))


def accept_due_for(assigned_on: dt.date, policy: str = "citizen") -> dt.date:
    """The last day to accept a suggestion assigned on ``assigned_on`` (both policies)."""
    return add_working_days(assigned_on, _setting("ACCEPT_WORKING_DAYS", 2))


def reply_due_for(assigned_on: dt.date, policy: str = "citizen") -> dt.date:
    """The last day to answer a suggestion assigned on ``assigned_on``."""
    if policy == "deputy":
        return add_months(assigned_on, _setting("DEPUTY_REPLY_MONTHS", 3))
    return add_working_days(assigned_on, _setting("REPLY_WORKING_DAYS", 15))


def compute_deadlines(policy: str, assigned_on: dt.date) -> tuple[dt.date, dt.date]:
    """(accept_due, reply_due) for a suggestion assigned on ``assigned_on``."""
    return accept_due_for(assigned_on, policy), reply_due_for(assigned_on, policy)


def extension_limit(policy: str, reply_due: dt.date) -> dt.date:
    """The latest answer date one extension may grant beyond ``reply_due``."""
    if policy == "deputy":
        return add_months(reply_due, _setting("DEPUTY_EXTENSION_MAX_MONTHS", 3))
    return add_working_days(reply_due, _setting("EXTENSION_MAX_WORKING_DAYS", 15))


def _calendar_for(today: dt.date) -> WorkingCalendar:
    return working_calendar(range(today.year - 1, today.year + 2))


def due_soon_end(today: dt.date, calendar: WorkingCalendar | None = None) -> dt.date:
    """The first day that is no longer "due soon": a due date in [today, this day)
    lies within DUE_SOON_WORKING_DAYS working days."""
    calendar = calendar or _calendar_for(today)
    return calendar.add_working_days(today, DUE_SOON_WORKING_DAYS + 1)


def deadline_state(s: Any, today: dt.date, calendar: WorkingCalendar | None = None) -> str | None:
    """ "on_time", "due_soon" (answer due within 3 working days) or "overdue" (the
    acceptance or the answer is late) for a suggestion being handled; None otherwise.

    Pass a ``calendar`` when classifying many suggestions (it saves the queries).
    """
    if s.status not in OPEN_STATUSES or s.reply_due is None:
        return None
    if s.reply_due < today or (
        s.status == "assigned" and s.accept_due is not None and s.accept_due < today
    ):
        return "overdue"
    if s.reply_due < due_soon_end(today, calendar):
        return "due_soon"
    return "on_time"


def deadline_filter(
    state: str, today: dt.date, calendar: WorkingCalendar | None = None
) -> sa.ColumnElement[bool]:
    """A WHERE clause selecting the suggestions ``deadline_state`` puts in ``state``."""
    open_ = Suggestion.status.in_(OPEN_STATUSES) & Suggestion.reply_due.is_not(None)
    overdue = sa.or_(
        Suggestion.reply_due < today,
        sa.and_(Suggestion.status == "assigned", Suggestion.accept_due < today),
    )
    if state == "overdue":
        return sa.and_(open_, overdue)
    end = due_soon_end(today, calendar)
    if state == "due_soon":
        return sa.and_(open_, sa.not_(overdue), Suggestion.reply_due < end)
    if state == "on_time":
        return sa.and_(open_, sa.not_(overdue), Suggestion.reply_due >= end)
    return sa.false()


# The deadline job


def check_deadlines(now: dt.datetime) -> None:
    """Queue deadline warnings and overdue notices due at ``now``.

    - Before the answer deadline (within DEADLINE_WARNING_WORKING_DAYS working days,
      default 3): one warning per deadline to the lead agency and to co-handlers that
      have not sent their opinion.
    - After the acceptance or answer deadline, on each working day: one notice per
      suggestion, kind (``accept`` / ``reply``), day and recipient to the lead agency,
      its supervising agency and the liaisons of the suggestion's workroom.
    Agencies and liaisons without an email address are skipped. Idempotent: every
    message carries a dedupe key.
    """
    today = local_date(now)
    calendar = _calendar_for(today)
    warn_end = calendar.add_working_days(today, _setting("DEADLINE_WARNING_WORKING_DAYS", 3) + 1)
    rows = db.session.scalars(
        sa.select(Suggestion)
        .where(
            Suggestion.status.in_(OPEN_STATUSES),
            sa.or_(
                Suggestion.reply_due < warn_end,
                sa.and_(Suggestion.status == "assigned", Suggestion.accept_due < today),
            ),
        )
        .options(
            selectinload(Suggestion.agencies).selectinload(SuggestionAgency.agency),
            selectinload(Suggestion.lead_agency).selectinload(Agency.supervisor),
        )
        .order_by(Suggestion.id)
    ).all()
    liaisons = messenger.liaisons({s.workroom_id for s in rows if s.workroom_id})
    working_today = calendar.is_working_day(today)
    for s in rows:
        if s.reply_due is not None and today <= s.reply_due < warn_end:
            _warn(s, now)
        if not working_today:
            continue
        if s.reply_due is not None and s.reply_due < today:
            _overdue(s, "reply", s.reply_due, today, calendar, liaisons, now)
        if s.status == "assigned" and s.accept_due is not None and s.accept_due < today:
            _overdue(s, "accept", s.accept_due, today, calendar, liaisons, now)


def _warn(s: Any, now: dt.datetime) -> None:
    for link in s.agencies:
        if link.role != "lead" and link.opinion_at is not None:
            continue
        messenger.tell(
            messenger.agency(link.agency),
            f"warning:{s.id}:reply:{s.reply_due.isoformat()}:agency{link.agency_id}",
            now,
            email="deadline_warning.txt",
            context={"suggestion": s, "lead": link.role == "lead"},
        )


def _overdue(
    s: Any,
    kind: str,
    due: dt.date,
    today: dt.date,
    calendar: WorkingCalendar,
    liaisons: dict[int, list[messenger.Recipient]],
    now: dt.datetime,
) -> None:
    """Tell the lead agency, its supervisor and the workroom's liaisons that ``kind``
    (accept / reply) was due on ``due``, once per recipient and working day."""
    prefix = f"overdue:{s.id}:{kind}:{today.isoformat()}"
    agencies = messenger.agency_and_supervisor(s.lead_agency) if s.lead_agency else []
    recipients = [(f"agency{r.id}", r) for r in agencies]
    recipients.extend((f"user{r.id}", r) for r in liaisons.get(s.workroom_id or 0, []))
    context = {
        "suggestion": s,
        "kind": kind,
        "due": due,
        "late": calendar.working_days_between(due, today),
    }
    for name, recipient in recipients:
        messenger.tell(
            recipient, f"{prefix}:{name}", now, email="deadline_overdue.txt", context=context
        )
