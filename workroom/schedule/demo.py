"""Demo data of this area (called by workroom.demo.seed_demo): reception rules for the
demo workrooms and a published roster for the next eight weeks."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from workroom.clock import local_date
from workroom.db import db
from workroom.places.models import Workroom
from workroom.schedule import periods, reception_rules
from workroom.schedule.generate import generate_roster
from workroom.schedule.models import ReceptionRule
from workroom.workdays.calendar import confirm_year, working_calendar

WEEKS = 8
RULES = {
    # A weekly reception morning by two deputies.
    "xiasheshi": {
        "rrule": "FREQ=WEEKLY;BYDAY=WE",
        "starts_at_time": dt.time(9, 0),
        "ends_at_time": dt.time(11, 30),
        "deputies_needed": 2,
        "capacity": 20,
        "on_non_working_day": "next_working_day",
    },
    "jianshelu": {
        "rrule": "FREQ=MONTHLY;BYDAY=2TH,4TH",
        "starts_at_time": dt.time(14, 30),
        "ends_at_time": dt.time(17, 0),
        "deputies_needed": 2,
        "capacity": 15,
        "on_non_working_day": "next_working_day",
    },
    "hetang": {
        "rrule": "FREQ=MONTHLY;BYDAY=1TU,3TU",
        "starts_at_time": dt.time(9, 0),
        "ends_at_time": dt.time(11, 30),
        "deputies_needed": 2,
        "capacity": 15,
        "on_non_working_day": "skip",
    },
}
DEMO_NOTE = "为演示排班而确认，并非取自国务院通知"


def seed(now: dt.datetime) -> int:
    """Add this area's demo data if missing; return how many records were created.

    Gives each demo workroom its rule, confirms (as demo data) the years of the next
    eight weeks and the coming year that the holidays package lacks, then drafts and
    publishes the next eight weeks without notifying anyone (the deputies are invented).
    """
    workrooms = db.session.scalars(
        sa.select(Workroom).where(Workroom.slug.in_(list(RULES))).order_by(Workroom.id)
    ).all()
    if not workrooms:
        return 0
    created = 0
    today = local_date(now)
    for workroom in workrooms:
        has_rule = db.session.scalar(
            sa.select(ReceptionRule.id).where(ReceptionRule.workroom_id == workroom.id)
        )
        if has_rule is None:
            reception_rules.create_rule(
                workroom, valid_from=today.replace(day=1), **RULES[workroom.slug]
            )
            created += 1

    end = today + dt.timedelta(weeks=WEEKS, days=-1)
    years = sorted({today.year, today.year + 1, end.year})
    calendar = working_calendar(years)
    for year in years:
        if not calendar.is_confirmed(year):
            confirm_year(year, "demo", DEMO_NOTE, None, now=now)
            created += 1
    calendar = working_calendar(years)

    ids = [w.id for w in workrooms]
    generate_roster(today, end, now, calendar.is_working_day, ids)
    for workroom in workrooms:
        created += len(periods.publish_days(workroom, today, end, now, notify=False))
    return created
