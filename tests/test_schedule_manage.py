"""Reception rules, generate → publish, changes after publication and swaps: what each
does to the days and which messages it leaves in the outbox."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from tests.conftest import first_unknown_year
from workroom.audit.models import AuditEvent
from workroom.errors import Conflict, DomainError
from workroom.outbox.models import OutboxMessage
from workroom.people.models import Unavailability
from workroom.schedule import changes, deputy_days, periods, reception_rules
from workroom.schedule.models import Assignment, ReceptionDay, ReceptionRule, SwapRequest
from workroom.schedule.rules import build_rrule
from workroom.workdays.calendar import next_working_day
from workroom.workdays.models import ConfirmedYear

D = dt.date
# Monday 2 March 2026, 08:00 in Shanghai.
NOW = dt.datetime(2026, 3, 2, 0, 0)
APRIL = (D(2026, 4, 1), D(2026, 4, 30))
APRIL_WEDNESDAYS = [D(2026, 4, d) for d in (1, 8, 15, 22, 29)]
# The first year the holidays package does not carry, and the last one it does.
UNKNOWN = first_unknown_year()
KNOWN = UNKNOWN - 1


def _rule(workroom, **kw):
    values = {
        "rrule": build_rrule("weekly", ["WE"]),
        "starts_at_time": dt.time(9),
        "ends_at_time": dt.time(11, 30),
        "deputies_needed": 2,
        "capacity": 20,
        "valid_from": D(2026, 1, 1),
        "valid_until": None,
        "on_non_working_day": "next_working_day",
    }
    values.update(kw)
    return reception_rules.create_rule(workroom, **values)


@pytest.fixture
def room(db, make_workroom, make_deputy, make_user):
    """A workroom with a Wednesday-morning rule, four deputies and a liaison with email."""
    workroom = make_workroom(name="下摄司街道代表工作室")
    _rule(workroom)
    for n in range(4):
        deputy = make_deputy(name=f"代表{n}", email=f"d{n}@example.cn", phone=f"1380000800{n}")
        deputy.workrooms.append(workroom)
    liaison = make_user("liaison", workrooms=[workroom])
    liaison.email = "liaison@example.cn"
    db.session.commit()
    return workroom


def _days(db, workroom):
    return db.session.scalars(
        sa.select(ReceptionDay)
        .where(ReceptionDay.workroom_id == workroom.id)
        .order_by(ReceptionDay.starts_at)
    ).all()


def _keys(db) -> set[str]:
    return set(db.session.scalars(sa.select(OutboxMessage.dedupe_key)))


def _published(db, workroom):
    periods.generate_period(workroom, *APRIL, NOW)
    periods.publish_days(workroom, *APRIL, NOW)
    db.session.commit()
    return _days(db, workroom)


@pytest.fixture
def deputies_of(db):
    from workroom.people.models import Deputy, deputy_workroom

    def load(workroom):
        return db.session.scalars(
            sa.select(Deputy)
            .join(deputy_workroom, deputy_workroom.c.deputy_id == Deputy.id)
            .where(deputy_workroom.c.workroom_id == workroom.id)
            .order_by(Deputy.id)
        ).all()

    return load


def _not_on(day, deputies):
    on_day = {a.deputy_id for a in day.assignments}
    return [d for d in deputies if d.id not in on_day]


# Rules


def test_rules_are_created_checked_and_deactivated(db, make_workroom):
    workroom = make_workroom()
    rule = _rule(workroom, rrule=build_rrule("monthly_weekday", ["WE"], [2, 4]))
    db.session.commit()
    assert rule.rrule == "FREQ=MONTHLY;BYDAY=2WE,4WE"
    assert rule.describe("en") == "every 2nd and 4th Wednesday, 09:00–11:30, 2 deputies"
    assert rule.describe("zh_Hans_CN") == "每月第2、4个星期三 09:00–11:30，2名代表"

    with pytest.raises(DomainError) as error:
        _rule(workroom, ends_at_time=dt.time(8))
    assert error.value.field == "ends_at_time"
    db.session.rollback()

    reception_rules.update_rule(
        rule,
        rrule=rule.rrule,
        starts_at_time=rule.starts_at_time,
        ends_at_time=rule.ends_at_time,
        deputies_needed=1,
        capacity=10,
        valid_from=rule.valid_from,
        valid_until=D(2026, 12, 31),
        on_non_working_day="skip",
        active=False,
    )
    db.session.commit()
    assert (rule.active, rule.deputies_needed, rule.capacity) == (False, 1, 10)
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {
        "reception_rule.create",
        "reception_rule.update",
        "reception_rule.deactivate",
    } <= actions


def test_period_is_a_month_a_quarter_or_a_year():
    assert periods.period(D(2026, 4, 17), 1) == APRIL
    assert periods.period(D(2026, 11, 1), 3) == (D(2026, 11, 1), D(2027, 1, 31))
    assert periods.period(D(2026, 1, 1), 12) == (D(2026, 1, 1), D(2026, 12, 31))
    with pytest.raises(DomainError) as error:
        periods.period(D(2026, 1, 1), 2)
    assert error.value.field == "length"


# Generate, publish


def test_an_unconfirmed_year_blocks_generation_until_acknowledged(db, room):
    # December of the last year the package carries to February of the first it lacks.
    start, end = periods.period(D(KNOWN, 12, 1), 3)
    with pytest.raises(DomainError) as error:
        periods.generate_period(room, start, end, NOW)
    assert error.value.field == "acknowledge"
    assert str(UNKNOWN) in str(error.value.message)
    db.session.rollback()
    assert _days(db, room) == []

    # Acknowledging another year is not enough.
    with pytest.raises(DomainError):
        periods.generate_period(room, start, end, NOW, acknowledged_years=[UNKNOWN + 1])
    db.session.rollback()

    periods.generate_period(room, start, end, NOW, acknowledged_years=[UNKNOWN])
    db.session.commit()
    days = _days(db, room)
    # The first and last Wednesdays of the period (moved on should they be days off).
    first_wednesday = start + dt.timedelta(days=(2 - start.weekday()) % 7)
    last_wednesday = end - dt.timedelta(days=(end.weekday() - 2) % 7)
    assert days[0].day == next_working_day(first_wednesday) and days[0].day.year == KNOWN
    assert days[-1].day == next_working_day(last_wednesday) and days[-1].day.year == UNKNOWN
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "calendar.acknowledge")
    )
    assert event.object_id == str(UNKNOWN)
    assert f"人工核对了 {UNKNOWN} 年的节假日安排" in event.summary
    # The calendar itself stays unconfirmed: that is the calendar page's job.
    assert db.session.scalar(sa.select(ConfirmedYear).where(ConfirmedYear.year == UNKNOWN)) is None
    assert periods.unconfirmed_years(D(UNKNOWN, 1, 1), D(UNKNOWN, 1, 31)) == [UNKNOWN]


def test_publish_notifies_each_deputy_once_and_only_once(db, room):
    periods.generate_period(room, *APRIL, NOW)
    db.session.commit()
    drafts = _days(db, room)
    assert [d.day for d in drafts] == APRIL_WEDNESDAYS
    assert all(d.status == "draft" for d in drafts)
    assert _keys(db) == set()

    published = periods.publish_days(room, *APRIL, NOW)
    db.session.commit()
    assert len(published) == 5
    days = _days(db, room)
    assert all(d.status == "published" and d.published_at == NOW for d in days)
    assert all(d.sequence == 0 for d in days)
    messages = db.session.scalars(sa.select(OutboxMessage)).all()
    # Two deputies a day, each by email and by SMS.
    assert len(messages) == 5 * 2 * 2
    for day in days:
        for assignment in day.assignments:
            deputy = assignment.deputy
            mine = [
                m
                for m in messages
                if m.recipient in (deputy.email, deputy.phone)
                and f":{day.id}:{deputy.id}:" in m.dedupe_key
            ]
            assert sorted(m.channel for m in mine) == ["email", "sms"]
            assert all("published" in m.dedupe_key and ":0:" in m.dedupe_key for m in mine)
    sms = next(m for m in messages if m.channel == "sms")
    assert set(sms.params) == {"date", "time", "workroom"}
    assert sms.params["time"] == "09:00–11:30"
    assert sms.params["workroom"] == "下摄司街道代表工作室"

    assert periods.publish_days(room, *APRIL, NOW) == []
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 20


def test_publishing_leaves_other_workrooms_and_begun_days_alone(db, room, make_workroom):
    other = make_workroom()
    _rule(other)
    periods.generate_period(None, *APRIL, NOW)
    db.session.commit()
    # 1 April has begun by the time of publishing.
    late = dt.datetime(2026, 4, 1, 2, 0)
    assert len(periods.publish_days(room, *APRIL, late)) == 4
    db.session.commit()
    assert [d.status for d in _days(db, room)] == ["draft"] + ["published"] * 4
    assert {d.status for d in _days(db, other)} == {"draft"}


def test_fairness_counts_days_per_attached_deputy(db, room):
    periods.generate_period(room, *APRIL, NOW)
    db.session.commit()
    fairness = periods.fairness(room, *APRIL)
    # Ten places over four deputies: 3, 3, 2, 2.
    assert sorted(fairness.days.values()) == [2, 2, 3, 3]
    assert fairness.spread == 1
    assert fairness.groups == [(3, 2), (2, 2)]


# Changes after publication


def test_replace_tells_exactly_the_two_deputies(db, room, deputies_of):
    day = _published(db, room)[0]
    before = _keys(db)
    old = day.assignments[0].deputy
    stays = day.assignments[1].deputy
    new = _not_on(day, deputies_of(room))[0]

    change = changes.replace_deputy(day, old, new, NOW)
    db.session.commit()

    assert day.sequence == 1
    assert [a.deputy_id for a in day.assignments] == [stays.id, new.id]
    assert {d.id for d in change.notified} == {old.id, new.id}
    added = _keys(db) - before
    assert {k for k in added if k.startswith("removed:")} == {
        f"removed:{day.id}:{old.id}:1:email",
        f"removed:{day.id}:{old.id}:1:sms",
    }
    assert {k for k in added if not k.startswith("removed:")} == {
        f"reminder:{day.id}:{new.id}:published:1:email",
        f"reminder:{day.id}:{new.id}:published:1:sms",
    }
    assert not any(f":{stays.id}:" in k for k in added)


def test_add_remove_and_cancel_each_tell_only_the_affected(db, room, deputies_of):
    day = _published(db, room)[1]
    first, second = (a.deputy for a in day.assignments)
    extra = _not_on(day, deputies_of(room))[0]

    before = _keys(db)
    changes.add_deputy(day, extra, NOW)
    db.session.commit()
    assert day.sequence == 1
    assert {a.deputy_id for a in day.assignments} == {first.id, second.id, extra.id}
    assert all(f":{extra.id}:" in k for k in _keys(db) - before)

    before = _keys(db)
    changes.remove_deputy(day, first, NOW)
    db.session.commit()
    assert day.sequence == 2
    assert _keys(db) - before == {
        f"removed:{day.id}:{first.id}:2:email",
        f"removed:{day.id}:{first.id}:2:sms",
    }
    removal = db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"removed:{day.id}:{first.id}:2:sms"
        )
    )
    assert removal.sms_template == "RECEPTION_REMOVED"

    before = _keys(db)
    change = changes.cancel_day(day, "街道停电", NOW)
    db.session.commit()
    assert (day.status, day.cancel_reason, day.sequence) == ("cancelled", "街道停电", 3)
    assert {d.id for d in change.notified} == {second.id, extra.id}
    assert _keys(db) - before == {
        f"cancelled:{day.id}:{deputy.id}:3:{channel}"
        for deputy in (second, extra)
        for channel in ("email", "sms")
    }
    email = db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"cancelled:{day.id}:{second.id}:3:email"
        )
    )
    assert "街道停电" in email.body
    with pytest.raises(Conflict):
        changes.add_deputy(day, first, NOW)
    # A cancelled day is never drafted again.
    periods.generate_period(room, *APRIL, NOW)
    db.session.commit()
    assert [d.status for d in _days(db, room)].count("cancelled") == 1
    assert len(_days(db, room)) == 5


def test_cancelling_needs_a_reason(db, room):
    day = _published(db, room)[0]
    with pytest.raises(DomainError) as error:
        changes.cancel_day(day, "   ", NOW)
    assert error.value.field == "reason"


def test_changes_to_a_draft_tell_nobody(db, room, deputies_of):
    periods.generate_period(room, *APRIL, NOW)
    db.session.commit()
    day = _days(db, room)[0]
    old = day.assignments[0].deputy
    new = _not_on(day, deputies_of(room))[0]
    change = changes.replace_deputy(day, old, new, NOW)
    db.session.commit()
    assert new.id in {a.deputy_id for a in day.assignments}
    assert (day.sequence, change.notified, _keys(db)) == (0, [], set())


def test_a_day_that_has_begun_cannot_change(db, room, deputies_of):
    day = _published(db, room)[0]
    with pytest.raises(Conflict):
        changes.remove_deputy(day, day.assignments[0].deputy, day.starts_at)


def test_no_deputy_is_put_in_two_places_at_once(db, room, make_workroom, deputies_of):
    other = make_workroom(name="建设路街道代表联络站")
    _rule(other, starts_at_time=dt.time(10), ends_at_time=dt.time(12), deputies_needed=1)
    day = _published(db, room)[0]
    busy = day.assignments[0].deputy
    busy.workrooms.append(other)
    db.session.commit()
    periods.generate_period(other, *APRIL, NOW)
    db.session.commit()
    clash = _days(db, other)[0]
    assert clash.day == day.day
    with pytest.raises(DomainError) as error:
        changes.add_deputy(clash, busy, NOW)
    assert error.value.field == "deputy_id"
    assert "下摄司街道代表工作室" in str(error.value.message)
    assert busy.name in str(error.value.message)


def test_unavailable_deputies_are_refused_and_caps_warned(db, room, deputies_of):
    day = _published(db, room)[0]
    away, capped = _not_on(day, deputies_of(room))
    db.session.add(
        Unavailability(deputy=away, starts_on=D(2026, 3, 30), ends_on=D(2026, 4, 3), reason="出差")
    )
    capped.monthly_cap = 1
    db.session.commit()
    with pytest.raises(DomainError) as error:
        changes.add_deputy(day, away, NOW)
    assert "出差" in str(error.value.message)
    db.session.rollback()
    change = changes.add_deputy(day, capped, NOW)
    db.session.commit()
    assert capped.id in {a.deputy_id for a in day.assignments}
    assert len(change.warnings) == 1 and capped.name in change.warnings[0]


def test_the_options_and_a_change_by_hand_follow_the_roster_rule(
    db, room, make_workroom, make_deputy, deputies_of
):
    other = make_workroom(name="建设路街道代表联络站")
    _rule(other, starts_at_time=dt.time(10), ends_at_time=dt.time(12), deputies_needed=1)
    day = _published(db, room)[0]
    on_duty = day.assignments[0].deputy
    away, capped = _not_on(day, deputies_of(room))
    db.session.add(
        Unavailability(deputy=away, starts_on=D(2026, 3, 30), ends_on=D(2026, 4, 3), reason="出差")
    )
    capped.monthly_cap = 1
    busy = make_deputy(name="忙代表")
    busy.workrooms.append(other)
    db.session.commit()
    periods.generate_period(other, D(2026, 4, 1), D(2026, 4, 1), NOW)
    # At its cap by the other workroom's day, and busy then: the cap is named first.
    busy.monthly_cap = 1
    busy.workrooms.append(room)
    newcomer = make_deputy(name="新代表")
    newcomer.workrooms.append(room)
    resting = make_deputy(name="离任代表", active=False)
    resting.workrooms.append(room)
    stranger = make_deputy(name="外来代表")
    db.session.commit()

    held = sum(1 for d in _days(db, room) for a in d.assignments if a.deputy_id == capped.id)
    options = {o.deputy.id: o.reason for o in changes.deputy_options(day)}
    assert options == {
        newcomer.id: None,
        away.id: "unavailable",
        capped.id: "at_cap",
        busy.id: "at_cap",
    }

    def refusal(deputy):
        with force_locale("en"), pytest.raises(DomainError) as error:
            changes.add_deputy(day, deputy, NOW)
        db.session.rollback()
        assert error.value.field == "deputy_id"
        with force_locale("en"):
            return str(error.value.message)

    assert refusal(away) == f"{away.name} is unavailable from Mar 30, 2026 to Apr 3, 2026 (出差)."
    # Over the cap is allowed by hand; two places at once is not.
    assert refusal(busy) == (
        "忙代表 already holds a reception day at 建设路街道代表联络站 at that time "
        "(Apr 1, 2026 10:00–12:00)."
    )
    assert refusal(stranger) == "外来代表 is not attached to this workroom."
    assert refusal(resting) == "离任代表 is no longer active."
    assert refusal(on_duty) == f"{on_duty.name} is already on duty that day."

    with force_locale("en"):
        change = changes.add_deputy(day, capped, NOW)
    assert change.warnings == [
        f"{capped.name} now holds {held + 1} reception days in 2026-04, over the monthly cap of 1."
    ]
    assert changes.add_deputy(day, newcomer, NOW).warnings == []
    db.session.commit()
    assert {capped.id, newcomer.id} <= {a.deputy_id for a in day.assignments}


# Swaps and replies


def test_swap_flow_proposes_free_substitutes_and_moves_the_place(db, room, deputies_of):
    days = _published(db, room)
    day = days[0]
    requester = day.assignments[0]
    partner = day.assignments[1].deputy
    free = _not_on(day, deputies_of(room))
    away = free[1]
    db.session.add(Unavailability(deputy=away, starts_on=day.day, ends_on=day.day, reason="开会"))
    db.session.commit()

    before = _keys(db)
    swap = deputy_days.request_swap(requester, "  外地出差  ", NOW)
    db.session.commit()
    assert (swap.status, swap.reason, swap.workroom_id) == ("pending", "外地出差", room.id)
    assert _keys(db) - before == {f"swap-requested:{swap.id}:liaison-{room_liaison_id(db, room)}"}
    with pytest.raises(Conflict):
        deputy_days.request_swap(requester, "again", NOW)
    db.session.rollback()

    proposed = changes.propose_substitutes(day)
    assert [o.deputy.id for o in proposed] == [free[0].id]
    options = changes.deputy_options(day)
    assert [(o.deputy.id, o.reason) for o in options] == [
        (free[0].id, None),
        (away.id, "unavailable"),
    ]

    before = _keys(db)
    change = deputy_days.approve_swap(swap, proposed[0].deputy, NOW)
    db.session.commit()
    old = swap.deputy
    assert swap.status == "approved" and swap.substitute_id == free[0].id
    assert {a.deputy_id for a in day.assignments} == {partner.id, free[0].id}
    assert day.sequence == 1
    assert {d.id for d in change.notified} == {old.id, free[0].id}
    added = _keys(db) - before
    assert f"removed:{day.id}:{old.id}:1:email" in added
    assert f"reminder:{day.id}:{free[0].id}:published:1:sms" in added
    assert not any(f":{partner.id}:" in k for k in added)
    with pytest.raises(Conflict):
        deputy_days.refuse_swap(swap, "", NOW)


def room_liaison_id(db, workroom):
    from workroom import messenger

    return messenger.liaisons([workroom.id])[workroom.id][0].id


def test_substitutes_are_ranked_fewest_served_first(db, room, deputies_of, make_deputy):
    days = _published(db, room)
    newcomer = make_deputy(name="新代表")
    newcomer.workrooms.append(room)
    db.session.commit()
    day = days[-1]
    ranked = [o.deputy for o in changes.propose_substitutes(day)]
    # The newcomer has served no day at all and comes first.
    assert ranked[0].id == newcomer.id
    served = {
        d.id: sum(1 for x in days for a in x.assignments if a.deputy_id == d.id) for d in ranked
    }
    assert [served[d.id] for d in ranked] == sorted(served[d.id] for d in ranked)


def test_refused_swap_tells_the_requester(db, room):
    day = _published(db, room)[2]
    assignment = day.assignments[0]
    swap = deputy_days.request_swap(assignment, "家中有事", NOW)
    db.session.commit()
    change = deputy_days.refuse_swap(swap, "请自行协调", NOW)
    db.session.commit()
    assert swap.status == "refused" and swap.decision_note == "请自行协调"
    assert [d.id for d in change.notified] == [assignment.deputy_id]
    email = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == f"swap-refused:{swap.id}:email")
    )
    assert "请自行协调" in email.body
    assert day.sequence == 0 and assignment.deputy_id in {a.deputy_id for a in day.assignments}


def test_removing_a_requester_withdraws_its_swap(db, room):
    day = _published(db, room)[0]
    assignment = day.assignments[0]
    swap = deputy_days.request_swap(assignment, "出差", NOW)
    db.session.commit()
    changes.remove_deputy(day, assignment.deputy, NOW)
    db.session.commit()
    assert swap.status == "withdrawn"
    assert deputy_days.pending_swaps(room, NOW) == []


def test_a_decline_alerts_the_liaison_and_leaves_the_place_explained(db, room):
    day = _published(db, room)[0]
    assignment = day.assignments[0]
    assert deputy_days.respond(assignment, "confirm", NOW) is True
    assert assignment.status == "confirmed"
    db.session.commit()
    before = _keys(db)
    assert deputy_days.respond(assignment, "decline", NOW) is True
    db.session.commit()
    assert assignment.status == "declined" and day.sequence == 1
    added = _keys(db) - before
    assert len(added) == 1 and added.pop().startswith(f"declined:{day.id}:{assignment.deputy_id}")
    assert day.unfilled_text("en") == "needs 2 deputies, 1 assigned"
    assert deputy_days.my_days(assignment.deputy_id, NOW)[0].status == "declined"


def test_my_days_lists_published_and_cancelled_days_that_have_not_ended(db, room):
    days = _published(db, room)
    deputy_id = days[0].assignments[0].deputy_id
    changes.cancel_day(days[0], "停电", NOW)
    db.session.commit()
    mine = deputy_days.my_days(deputy_id, NOW)
    expected = [d.id for d in days if deputy_id in {a.deputy_id for a in d.assignments}]
    assert [a.reception_day_id for a in mine] == expected
    later = deputy_days.my_days(deputy_id, days[-1].ends_at)
    assert later == []


# Demo


def test_demo_publishes_eight_weeks_and_runs_twice_without_change(db):
    from workroom.demo import seed_people, seed_places
    from workroom.schedule import demo

    created: dict[str, int] = dict.fromkeys(
        ("areas", "workrooms", "groups", "agencies", "deputies"), 0
    )
    seed_people(seed_places(created), created)
    # 10:00 in Shanghai on the first Tuesday of December of the last year the package
    # carries: the eight weeks reach into the first year it lacks.
    december = D(KNOWN, 12, 1)
    today = december + dt.timedelta(days=(1 - december.weekday()) % 7)
    now = dt.datetime.combine(today, dt.time(2, 0))
    first = demo.seed(now)
    db.session.commit()
    rules = db.session.scalars(sa.select(ReceptionRule)).all()
    assert len(rules) == 3
    weekly = next(r for r in rules if r.workroom.slug == "xiasheshi")
    assert weekly.describe("en") == "every Wednesday, 09:00–11:30, 2 deputies"
    assert weekly.on_non_working_day == "next_working_day"
    demo_year = db.session.scalar(sa.select(ConfirmedYear).where(ConfirmedYear.year == UNKNOWN))
    assert demo_year.source == "demo"
    days = db.session.scalars(sa.select(ReceptionDay)).all()
    assert days and all(d.status == "published" for d in days)
    last = today + dt.timedelta(weeks=8, days=-1)
    assert max(d.day for d in days) <= last
    # The weekly room holds its eight Wednesdays, each moved on past a day off (and gone
    # should that take it beyond the eight weeks).
    wednesday = today + dt.timedelta(days=(2 - today.weekday()) % 7)
    held = {next_working_day(wednesday + dt.timedelta(weeks=n)) for n in range(8)}
    xiasheshi = [d for d in days if d.workroom.slug == "xiasheshi"]
    assert sorted(d.day for d in xiasheshi) == sorted(day for day in held if day <= last)
    assert all(len(d.assignments) == 2 for d in xiasheshi)
    # Invented deputies are never messaged.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert first == 3 + 1 + len(days)

    assert demo.seed(now) == 0
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReceptionDay)) == len(days)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == sum(
        len(d.assignments) for d in days
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SwapRequest)) == 0
