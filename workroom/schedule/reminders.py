"""Reminders to deputies before their reception days, their confirm/decline replies, and
alerts to liaisons about days still unconfirmed.

Every message goes through the outbox under a key naming the day, the person, the kind
and the day's sequence, so a doubled run queues nothing twice and a changed day (its
sequence raised) is announced again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from workroom import messenger
from workroom.audit.log import record
from workroom.clock import as_utc_naive, local_date, to_utc
from workroom.db import db, increment, lock
from workroom.errors import Conflict, DomainError
from workroom.places.models import Workroom
from workroom.schedule.feeds import join_names, on_duty, time_window
from workroom.schedule.models import Assignment, ReceptionDay
from workroom.schedule.tokens import load_assignment_token, make_assignment_token, public_url

# Reminder kinds in the order they fall due. "published" is the notice sent when a
# day is published (queued by the publishing code, not by the job).
KINDS = ("published", "days_before", "evening_before")


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def reminder_moments(day: ReceptionDay) -> dict[str, dt.datetime]:
    """When each scheduled reminder of a day falls due (naive UTC).

    "days_before": REMINDER_DAYS_BEFORE (3) days before the start (none when 0);
    "evening_before": the local day before at REMINDER_EVENING_HOUR (18) o'clock.
    """
    moments: dict[str, dt.datetime] = {}
    days_before = _setting("REMINDER_DAYS_BEFORE", 3)
    if days_before > 0:
        moments["days_before"] = day.starts_at - dt.timedelta(days=days_before)
    hour = _setting("REMINDER_EVENING_HOUR", 18)
    moments["evening_before"] = to_utc(day.day - dt.timedelta(days=1), dt.time(hour))
    return moments


def unconfirmed_alert_moment(day: ReceptionDay) -> dt.datetime:
    """When liaisons hear of deputies who have not confirmed: UNCONFIRMED_ALERT_DAYS (2)
    days before the start."""
    return day.starts_at - dt.timedelta(days=_setting("UNCONFIRMED_ALERT_DAYS", 2))


def due_reminder(day: ReceptionDay, now: dt.datetime) -> str | None:
    """The reminder kind due at ``now`` for a day that has not begun, or None.

    When several are due (the runner was down, or the day was published late) only the
    latest is sent: a deputy gets "tomorrow", not also "in three days".
    """
    if day.starts_at <= now:
        return None
    due = [(moment, kind) for kind, moment in reminder_moments(day).items() if moment <= now]
    return max(due)[1] if due else None


def reminder_key(day: ReceptionDay, assignment: Assignment, kind: str) -> str:
    """The dedupe key of a reminder; the messenger adds ``:email`` and ``:sms``."""
    return f"reminder:{day.id}:{assignment.deputy_id}:{kind}:{day.sequence}"


def response_links(assignment: Assignment) -> dict[str, str]:
    """The signed confirm and decline addresses of an assignment (no sign-in needed)."""
    return {
        action: public_url("public.respond", token=make_assignment_token(assignment.id, action))
        for action in ("confirm", "decline")
    }


def _days_ahead(day: ReceptionDay, now: dt.datetime) -> int:
    """Whole local days from ``now`` to the day: 0 today, 1 tomorrow."""
    return (day.day - local_date(now)).days


# What the messages about a reception day name


def day_context(day: ReceptionDay) -> dict[str, Any]:
    """What every email about a reception day shows: the day, its workroom, its time
    window (and ``join_names`` to list names in the recipient's language)."""
    return {
        "day": day,
        "workroom": day.workroom,
        "window": time_window(day),
        "join_names": join_names,
    }


def day_params(day: ReceptionDay, **extra: Any) -> dict[str, Any]:
    """The SMS parameters naming a reception day: date, time, workroom, and ``extra``."""
    return {"date": day.day, "time": time_window(day), "workroom": day.workroom.name, **extra}


def tell_liaisons(
    day: ReceptionDay, key_prefix: str, template: str, now: dt.datetime, **context: Any
) -> int:
    """Email the liaisons of the day's workroom, each under ``<key_prefix><user id>``,
    from ``templates/email/<template>``; return the emails queued (accounts without an
    address get none)."""
    count = 0
    for liaison in messenger.liaisons([day.workroom_id]).get(day.workroom_id, []):
        count += messenger.tell(
            liaison,
            f"{key_prefix}{liaison.id}",
            now,
            email=template,
            context={
                **day_context(day),
                "staff_url": public_url("site.staff_home"),
                **context,
            },
        )
    return count


def queue_deputy_reminder(assignment: Assignment, kind: str, now: dt.datetime) -> int:
    """Queue one reminder of ``kind`` to the assignment's deputy; return its messages.

    An email (templates/email/reminder.txt) with confirm/decline links when the deputy
    has an email address, and an SMS (RECEPTION_REMINDER: date, time, workroom) when
    the deputy has a mobile number. Keys carry the day's sequence; queueing again
    changes nothing. The caller commits.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown reminder kind {kind!r}")
    day = assignment.reception_day
    deputy = assignment.deputy
    return messenger.tell(
        messenger.deputy(deputy),
        reminder_key(day, assignment, kind),
        now,
        email="reminder.txt",
        context={
            **day_context(day),
            "kind": kind,
            "ahead": _days_ahead(day, now),
            "deputy": deputy,
            "assignment": assignment,
            "others": [a.deputy.name for a in on_duty(day) if a.deputy_id != deputy.id],
            "links": response_links(assignment),
            "page_url": public_url("public.workroom", slug=day.workroom.slug),
        },
        sms="RECEPTION_REMINDER",
        params=day_params(day),
    )


def queue_unconfirmed_alert(day: ReceptionDay, now: dt.datetime) -> int:
    """Tell the workroom's liaisons which deputies have not confirmed the day; return the
    emails queued (none when everyone confirmed). Key ``unconfirmed:<day>:<sequence>:<user>``."""
    waiting = [a.deputy for a in day.assignments if a.status == "assigned"]
    if not waiting:
        return 0
    return tell_liaisons(
        day,
        f"unconfirmed:{day.id}:{day.sequence}:",
        "unconfirmed_alert.txt",
        now,
        waiting=waiting,
    )


def send_reminders(now: dt.datetime) -> None:
    """Queue reminders to deputies and alerts to liaisons that are due at now.

    Looks at published days of active workrooms that have not begun: each deputy who has
    not declined gets the latest reminder due (see :func:`due_reminder`); the liaisons
    hear of deputies still unconfirmed once the alert is due. Days that have begun get
    nothing, however late the run. Idempotent: the outbox keys make a repeat a no-op.
    """
    now = as_utc_naive(now)
    reach = max(_setting("REMINDER_DAYS_BEFORE", 3), _setting("UNCONFIRMED_ALERT_DAYS", 2), 2)
    days = db.session.scalars(
        sa.select(ReceptionDay)
        .join(Workroom, Workroom.id == ReceptionDay.workroom_id)
        .where(
            ReceptionDay.status == "published",
            Workroom.active.is_(True),
            ReceptionDay.starts_at > now,
            ReceptionDay.starts_at <= now + dt.timedelta(days=reach),
        )
        .options(
            selectinload(ReceptionDay.assignments).selectinload(Assignment.deputy),
            selectinload(ReceptionDay.workroom),
        )
        .order_by(ReceptionDay.starts_at, ReceptionDay.id)
    ).all()
    for day in days:
        kind = due_reminder(day, now)
        if kind:
            for assignment in on_duty(day):
                if assignment.deputy.active:
                    queue_deputy_reminder(assignment, kind, now)
        if unconfirmed_alert_moment(day) <= now:
            queue_unconfirmed_alert(day, now)


# Replies from the links in reminders


def assignment_for_link(token: str) -> tuple[Assignment, str] | None:
    """The assignment a reminder link still opens, and the reply it gives; None when the
    link is forged, damaged or too old, or its assignment is gone.

    A link signed before its assignment was created is not that assignment's: SQLite
    may give a new row the id of one deleted (a deputy replaced), and the old link must
    not open the newcomer's day. Signing times are whole seconds.
    """
    link = load_assignment_token(token)
    if link is None:
        return None
    assignment = db.session.get(Assignment, link.assignment_id)
    if assignment is None or link.issued_at < assignment.created_at.replace(microsecond=0):
        return None
    return assignment, link.action


def respond_to_assignment(assignment: Assignment, action: str, now: dt.datetime) -> bool:
    """Confirm or decline an assignment for its deputy; False when it already was so.

    A decline raises the day's sequence (the published roster changed) and tells the
    workroom's liaisons. Raises Conflict when the day is not published, has begun, or
    when confirming a day the deputy declined.
    """
    now = as_utc_naive(now)
    day = assignment.reception_day
    lock(day, assignment)
    if day.status == "cancelled":
        raise Conflict(_l("This reception day was cancelled."))
    if day.status != "published" or day.starts_at <= now:
        raise Conflict(_l("This reception day no longer takes replies."))
    deputy = assignment.deputy
    if action == "confirm":
        if assignment.status == "confirmed":
            return False
        if assignment.status == "declined":
            raise Conflict(_l("You declined this day. Please call the liaison to change that."))
        assignment.status = "confirmed"
        assignment.confirmed_at = now
        record(
            "assignment.confirm",
            assignment,
            summary=_l(
                "%(deputy)s confirmed %(day)s at %(workroom)s",
                deputy=deputy.name,
                day=day.day,
                workroom=day.workroom.name,
            ),
            at=now,
        )
        return True
    if action != "decline":
        raise DomainError(_l("Unknown reply."), "action")
    if assignment.status == "declined":
        return False
    assignment.status = "declined"
    assignment.confirmed_at = None
    increment(day, "sequence")
    record(
        "assignment.decline",
        assignment,
        summary=_l(
            "%(deputy)s declined %(day)s at %(workroom)s",
            deputy=deputy.name,
            day=day.day,
            workroom=day.workroom.name,
        ),
        at=now,
    )
    tell_liaisons(
        day,
        f"declined:{day.id}:{deputy.id}:",
        "declined_alert.txt",
        now,
        deputy=deputy,
        remaining=[a.deputy.name for a in on_duty(day)],
    )
    return True


def reply_window_open(assignment: Assignment, now: dt.datetime) -> bool:
    """Whether the deputy can still answer: the day is published and has not begun."""
    day = assignment.reception_day
    return day.status == "published" and day.starts_at > as_utc_naive(now)
