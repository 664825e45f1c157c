"""The published schedule as citizens and deputies see it: the days of a public page,
the next day for the printed notice, iCalendar feeds, and deputies' private feed links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from icalendar import Calendar, Event
from sqlalchemy.orm import selectinload

from workroom.audit.log import record
from workroom.clock import as_utc_naive, local_date, to_local, zone
from workroom.db import db
from workroom.people.models import Deputy
from workroom.places.models import Workroom
from workroom.schedule.models import Assignment, DeputyFeedToken, ReceptionDay
from workroom.schedule.tokens import hash_feed_token, new_feed_token, public_host, public_url

# Statuses citizens see: drafts stay with the staff.
PUBLIC_STATUSES = ("published", "cancelled")
PAGE_WEEKS = 8
FEED_DAYS_BACK = 90
FEED_DAYS_AHEAD = 366


def time_window(day: ReceptionDay) -> str:
    """The local time window of a reception day, e.g. "09:00–11:30"."""
    return f"{to_local(day.starts_at):%H:%M}–{to_local(day.ends_at):%H:%M}"


def on_duty(day: ReceptionDay) -> list[Assignment]:
    """The deputies of a day who have not declined, in a stable order."""
    return [a for a in day.assignments if a.status != "declined"]


def _days_query() -> sa.Select:
    return sa.select(ReceptionDay).options(
        selectinload(ReceptionDay.assignments).selectinload(Assignment.deputy),
        selectinload(ReceptionDay.workroom),
    )


def public_days(workroom: Workroom, first: dt.date, last: dt.date) -> Sequence[ReceptionDay]:
    """The published and cancelled reception days of a workroom dated in [first, last]."""
    return db.session.scalars(
        _days_query()
        .where(
            ReceptionDay.workroom_id == workroom.id,
            ReceptionDay.status.in_(PUBLIC_STATUSES),
            ReceptionDay.day.between(first, last),
        )
        .order_by(ReceptionDay.starts_at, ReceptionDay.id)
    ).all()


def upcoming_days(workroom: Workroom, now: dt.datetime) -> Sequence[ReceptionDay]:
    """What the public page shows: the next eight weeks from today (local), without days
    that have already ended."""
    today = local_date(now)
    last = today + dt.timedelta(weeks=PAGE_WEEKS) - dt.timedelta(days=1)
    now = as_utc_naive(now)
    return [d for d in public_days(workroom, today, last) if d.ends_at > now]


def next_published_day(workroom: Workroom, now: dt.datetime) -> ReceptionDay | None:
    """The next published (not cancelled) reception day that has not ended, or None."""
    return db.session.scalars(
        _days_query()
        .where(
            ReceptionDay.workroom_id == workroom.id,
            ReceptionDay.status == "published",
            ReceptionDay.ends_at > as_utc_naive(now),
        )
        .order_by(ReceptionDay.starts_at, ReceptionDay.id)
        .limit(1)
    ).first()


# iCalendar


def _chinese() -> bool:
    return str(get_locale() or "").startswith("zh")


def _separator() -> str:
    return "、" if _chinese() else ", "


def join_names(names: Sequence[object]) -> str:
    """Names joined as the current locale lists them ("张三、李四" / "A, B")."""
    return _separator().join(str(n) for n in names)


def deputy_line(deputy: Deputy) -> str:
    """A deputy as the public sees them: name, level and sector (never a phone number)."""
    details = [deputy.level_label]
    if deputy.sector:
        details.append(deputy.sector)
    if _chinese():
        return f"{deputy.name}（{'，'.join(details)}）"
    return f"{deputy.name} ({', '.join(details)})"


def event_summary(day: ReceptionDay, with_workroom: bool = False) -> str:
    """The event title in the current locale, with the deputies' names."""
    names = join_names([a.deputy.name for a in on_duty(day)])
    if with_workroom:
        summary = _("Deputy reception day at %(workroom)s", workroom=day.workroom.name)
        if names:
            summary = _("%(summary)s: %(names)s", summary=summary, names=names)
    elif names:
        summary = _("Deputy reception day: %(names)s", names=names)
    else:
        summary = _("Deputy reception day")
    if day.status == "cancelled":
        summary = _("Cancelled: %(summary)s", summary=summary)
    return summary


def _event(day: ReceptionDay, uid: str, now: dt.datetime, note: str | None = None) -> Event:
    """One day as a VEVENT. ``note`` (a deputy's own feed) adds a line and names the
    workroom in the title, since that feed spans workrooms."""
    workroom = day.workroom
    page = public_url("public.workroom", slug=workroom.slug)
    lines = [f"{workroom.name} · {time_window(day)}"]
    if day.status == "cancelled":
        lines.append(_("This reception day is cancelled."))
        if day.cancel_reason:
            lines.append(_("Reason: %(reason)s", reason=day.cancel_reason))
    duty = on_duty(day)
    if duty:
        lines.append(_("Deputies on duty:"))
        lines.extend(deputy_line(a.deputy) for a in duty)
    if note:
        lines.append(note)
    if workroom.phone:
        lines.append(_("Liaison phone: %(phone)s", phone=workroom.phone))
    lines.append(page)

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", as_utc_naive(now).replace(tzinfo=dt.UTC))
    event.add("dtstart", to_local(day.starts_at))
    event.add("dtend", to_local(day.ends_at))
    event.add("sequence", day.sequence)
    event.add("status", "CANCELLED" if day.status == "cancelled" else "CONFIRMED")
    event.add("summary", event_summary(day, with_workroom=note is not None))
    event.add("location", "，".join(p for p in (workroom.name, workroom.address) if p))
    event.add("url", page)
    event.add("description", "\n".join(lines))
    event.add("transp", "OPAQUE")
    if day.updated_at:
        event.add("last-modified", day.updated_at.replace(tzinfo=dt.UTC))
    return event


def _calendar(name: str, events: list[Event]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Workroom//Deputy reception days//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone().key)
    for event in events:
        calendar.add_component(event)
    if events:
        first = min(e.decoded("dtstart") for e in events).date()
        last = max(e.decoded("dtend") for e in events).date()
        calendar.add_missing_timezones(first - dt.timedelta(days=1), last + dt.timedelta(days=1))
    return calendar.to_ical()


def _feed_window(now: dt.datetime) -> tuple[dt.date, dt.date]:
    today = local_date(now)
    return (
        today - dt.timedelta(days=FEED_DAYS_BACK),
        today + dt.timedelta(days=FEED_DAYS_AHEAD),
    )


def day_uid(day: ReceptionDay) -> str:
    """The stable UID of a reception day in the public feed."""
    return f"reception-{day.id}@{public_host()}"


def workroom_calendar(workroom: Workroom, now: dt.datetime) -> bytes:
    """The public iCalendar feed of a workroom, in the current locale.

    Published and cancelled days from 90 days back to a year ahead; SEQUENCE follows
    the day's sequence and times carry the configured zone (with its VTIMEZONE).
    """
    first, last = _feed_window(now)
    events = [_event(day, day_uid(day), now) for day in public_days(workroom, first, last)]
    return _calendar(_("Reception days: %(workroom)s", workroom=workroom.name), events)


def deputy_calendar(deputy: Deputy, now: dt.datetime) -> bytes:
    """A deputy's own reception days at every workroom, as an iCalendar feed.

    Same window and rules as the public feed; days the deputy declined are left out.
    """
    first, last = _feed_window(now)
    assignments = db.session.scalars(
        sa.select(Assignment)
        .join(Assignment.reception_day)
        .where(
            Assignment.deputy_id == deputy.id,
            Assignment.status != "declined",
            ReceptionDay.status.in_(PUBLIC_STATUSES),
            ReceptionDay.day.between(first, last),
        )
        .options(
            selectinload(Assignment.reception_day)
            .selectinload(ReceptionDay.assignments)
            .selectinload(Assignment.deputy),
            selectinload(Assignment.reception_day).selectinload(ReceptionDay.workroom),
        )
        .order_by(ReceptionDay.starts_at, ReceptionDay.id)
    ).all()
    events = []
    for assignment in assignments:
        day = assignment.reception_day
        reply = (
            _("You have confirmed this day.")
            if assignment.status == "confirmed"
            else _("You have not confirmed this day yet.")
        )
        uid = f"reception-{day.id}-deputy-{deputy.id}@{public_host()}"
        events.append(_event(day, uid, now, note=reply))
    return _calendar(_("My reception days: %(name)s", name=deputy.name), events)


# Private feed links


def live_feed_token(deputy: Deputy) -> DeputyFeedToken | None:
    """The deputy's current (not revoked) feed token row, or None."""
    return db.session.scalars(
        sa.select(DeputyFeedToken)
        .where(DeputyFeedToken.deputy_id == deputy.id, DeputyFeedToken.revoked_at.is_(None))
        .order_by(DeputyFeedToken.id.desc())
    ).first()


def _revoke_all(deputy: Deputy, now: dt.datetime) -> int:
    rows = db.session.scalars(
        sa.select(DeputyFeedToken).where(
            DeputyFeedToken.deputy_id == deputy.id, DeputyFeedToken.revoked_at.is_(None)
        )
    ).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)


def _feed_words(deputy: Deputy) -> object:
    return _l("Private calendar link for %(deputy)s", deputy=deputy.name)


def issue_feed_token(deputy: Deputy, now: dt.datetime) -> str:
    """Create a new secret feed link for the deputy and return its token.

    The token is not stored (only its hash), so it can be shown this once. Any earlier
    link of the deputy stops working. The caller commits.
    """
    now = as_utc_naive(now)
    _revoke_all(deputy, now)
    token = new_feed_token()
    row = DeputyFeedToken(deputy_id=deputy.id, token_hash=hash_feed_token(token), created_at=now)
    db.session.add(row)
    db.session.flush()
    record("feed_token.issue", deputy, summary=_feed_words(deputy), at=now)
    return token


def revoke_feed_token(deputy: Deputy, now: dt.datetime) -> bool:
    """Stop the deputy's feed link; False when there was none. The caller commits."""
    now = as_utc_naive(now)
    if not _revoke_all(deputy, now):
        return False
    record("feed_token.revoke", deputy, summary=_feed_words(deputy), at=now)
    return True


def deputy_for_feed_token(token: str) -> Deputy | None:
    """The active deputy a live feed token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalars(
        sa.select(Deputy)
        .join(DeputyFeedToken, DeputyFeedToken.deputy_id == Deputy.id)
        .where(
            DeputyFeedToken.token_hash == hash_feed_token(token),
            DeputyFeedToken.revoked_at.is_(None),
            Deputy.active.is_(True),
        )
    ).first()


@dataclass(frozen=True)
class DayView:
    """A reception day prepared for a public page."""

    day: ReceptionDay
    date: dt.date
    window: str
    cancelled: bool
    deputies: list[Deputy]


def day_view(day: ReceptionDay) -> DayView:
    return DayView(
        day=day,
        date=day.day,
        window=time_window(day),
        cancelled=day.status == "cancelled",
        deputies=[a.deputy for a in on_duty(day)],
    )
