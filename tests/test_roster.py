"""The roster solver's promises on random instances, its explanations, and drafting a
roster in the database."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_schedule_rules import fake_calendar
from workroom.audit.models import AuditEvent
from workroom.errors import DomainError
from workroom.people.models import Unavailability
from workroom.schedule.generate import generate_roster
from workroom.schedule.models import Assignment, ReceptionDay, ReceptionRule
from workroom.schedule.roster import (
    AT_CAP,
    BUSY_ELSEWHERE,
    NOT_ATTACHED,
    UNAVAILABLE,
    Candidate,
    Commitment,
    Duties,
    Explanation,
    Slot,
    assign_deputies,
    explain,
    why_not,
)

D = dt.date
PERIOD_START = D(2026, 3, 1)
working = fake_calendar()


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


# Random instances: a few workrooms, deputies attached to one or two of them, absences,
# caps, history, commitments, and slots that overlap across workrooms.

days = st.integers(0, 69).map(lambda i: PERIOD_START + dt.timedelta(days=i))


@st.composite
def instances(draw):
    workrooms = list(range(1, draw(st.integers(1, 4)) + 1))
    candidates = []
    for deputy_id in range(1, draw(st.integers(1, 9)) + 1):
        rooms = draw(st.sets(st.sampled_from(workrooms), min_size=1, max_size=2))
        absences = []
        for _ in range(draw(st.integers(0, 2))):
            first = draw(days)
            absences.append((first, first + dt.timedelta(days=draw(st.integers(0, 10)))))
        candidates.append(
            Candidate(
                deputy_id=deputy_id * 7,
                workroom_ids=frozenset(rooms),
                monthly_cap=draw(st.one_of(st.none(), st.integers(0, 4))),
                unavailable=tuple(absences),
                served_12m=draw(st.integers(0, 6)),
                last_served=draw(st.one_of(st.none(), st.just(D(2026, 2, 1)), days)),
            )
        )
    slots = {}
    for _ in range(draw(st.integers(0, 30))):
        room, day = draw(st.sampled_from(workrooms)), draw(days)
        start = at(day, draw(st.integers(8, 16)), draw(st.sampled_from([0, 30])))
        end = start + dt.timedelta(minutes=draw(st.sampled_from([60, 90, 150, 180])))
        key = f"{room}:{start:%Y%m%d%H%M}"
        slots[key] = Slot(key, room, day, start, end, draw(st.integers(1, 3)))
    commitments = []
    for _ in range(draw(st.integers(0, 6))):
        deputy, day = draw(st.sampled_from(candidates)), draw(days)
        start = at(day, draw(st.integers(8, 16)))
        commitments.append(Commitment(deputy.deputy_id, day, start, start + dt.timedelta(hours=2)))
    return list(slots.values()), candidates, commitments


def _check_promises(slots, candidates, commitments, result):
    by_id = {c.deputy_id: c for c in candidates}
    by_key = {s.key: s for s in slots}
    assert set(result.assignments) == set(by_key)
    held = defaultdict(list)
    for c in commitments:
        held[c.deputy_id].append((c.start, c.end))
    picks = defaultdict(list)
    month_picks = Counter()
    for key, deputies in result.assignments.items():
        slot = by_key[key]
        assert len(deputies) == len(set(deputies)) <= slot.needed
        for deputy_id in deputies:
            candidate = by_id[deputy_id]
            assert slot.workroom_id in candidate.workroom_ids
            assert not any(a <= slot.day <= b for a, b in candidate.unavailable)
            picks[deputy_id].append((slot.start, slot.end))
            month_picks[(deputy_id, slot.day.year, slot.day.month)] += 1

    # Nobody in two overlapping receptions: two picks of this run, or a pick and a commitment.
    for deputy_id, mine in picks.items():
        for i, (start, end) in enumerate(mine):
            others = mine[:i] + mine[i + 1 :] + held[deputy_id]
            assert not any(s < end and start < e for s, e in others), (deputy_id, start)

    # Never over the monthly cap, counting what was already held that month.
    for (deputy_id, year, month), picked in month_picks.items():
        cap = by_id[deputy_id].monthly_cap
        if cap is not None:
            already = sum(
                1
                for c in commitments
                if c.deputy_id == deputy_id and (c.day.year, c.day.month) == (year, month)
            )
            assert picked <= max(cap - already, 0)

    # Every slot is full or explained, and the explanation adds up.
    for key, slot in by_key.items():
        deputies = result.assignments[key]
        if len(deputies) >= slot.needed:
            assert key not in result.unfilled
            continue
        why = result.unfilled[key]
        attached = sum(1 for c in candidates if slot.workroom_id in c.workroom_ids)
        assert (why.needed, why.assigned, why.attached) == (slot.needed, len(deputies), attached)
        assert why.assigned + why.unavailable + why.at_cap + why.busy_elsewhere == attached
        assert explain(why, "en").startswith(f"needs {slot.needed} deput")


@settings(max_examples=200, deadline=None)
@given(instance=instances(), seed=st.integers(0, 2**16))
def test_roster_keeps_its_promises_and_is_deterministic(instance, seed):
    slots, candidates, commitments = instance
    result = assign_deputies(slots, candidates, commitments)
    _check_promises(slots, candidates, commitments, result)

    again = assign_deputies(slots, candidates, commitments)
    assert again == result
    shuffler = random.Random(seed)
    shuffled = [list(slots), list(candidates), list(commitments)]
    for items in shuffled:
        shuffler.shuffle(items)
    assert assign_deputies(*shuffled) == result


@settings(max_examples=200, deadline=None)
@given(instance=instances())
def test_every_pick_and_every_explanation_follows_why_not(instance):
    """Replaying the slots in the solver's order: each pick is a deputy why_not lets hold
    the slot, no free deputy is passed over while a place stays empty, and the
    explanation counts exactly the reasons why_not gives."""
    slots, candidates, commitments = instance
    result = assign_deputies(slots, candidates, commitments)
    by_id = {c.deputy_id: c for c in candidates}
    duties = Duties(commitments)
    for slot in sorted(slots, key=lambda s: (s.start, s.workroom_id, s.end, str(s.key))):
        attached = [c for c in candidates if slot.workroom_id in c.workroom_ids]
        reasons = Counter(why_not(c, slot, duties) for c in attached)
        chosen = result.assignments[slot.key]
        assert all(why_not(by_id[d], slot, duties) is None for d in chosen)
        assert len(chosen) == min(slot.needed, reasons[None])
        why = result.unfilled.get(slot.key)
        if why is not None:
            assert (why.unavailable, why.at_cap, why.busy_elsewhere) == (
                reasons[UNAVAILABLE],
                reasons[AT_CAP],
                reasons[BUSY_ELSEWHERE],
            )
        for deputy_id in chosen:
            duties.add(deputy_id, slot.day, slot.start, slot.end, slot.key)


def test_why_not_gives_the_first_reason_that_applies():
    day = D(2026, 3, 4)
    slot = Slot("a", 1, day, at(day, 9), at(day, 11), 1)
    elsewhere = Commitment(2, day, at(day, 10), at(day, 12), "room 2")
    duties = Duties([Commitment(2, day, at(day, 14), at(day, 16), "later"), elsewhere])
    assert why_not(Candidate(1, frozenset({1})), slot, duties) is None
    assert why_not(Candidate(1, frozenset({2})), slot, duties) == NOT_ATTACHED
    away = ((D(2026, 3, 1), D(2026, 3, 4)),)
    # Away, at the cap and busy at once: unavailable is named.
    assert why_not(Candidate(2, frozenset({1}), 1, away), slot, duties) == UNAVAILABLE
    capped = Candidate(2, frozenset({1}), monthly_cap=2)
    assert duties.in_month(2, D(2026, 3, 31)) == 2 and duties.in_month(2, D(2026, 4, 1)) == 0
    assert why_not(capped, slot, duties) == AT_CAP
    # A change by hand may go over the cap, but not be in two places at once.
    assert why_not(capped, slot, duties, over_cap=True) == BUSY_ELSEWHERE
    assert duties.clash(2, day, slot.start, slot.end) == elsewhere
    # Back to back is no clash.
    noon = Slot("b", 1, day, at(day, 12), at(day, 14), 1)
    assert why_not(Candidate(2, frozenset({1})), noon, duties) is None
    assert duties.clash(2, day, noon.start, noon.end) is None


@st.composite
def single_workroom(draw):
    """One workroom, slots that never overlap each other, no history, caps or absences."""
    deputies = draw(st.integers(1, 12))
    candidates = [
        Candidate(deputy_id=d, workroom_ids=frozenset({5})) for d in range(100, 100 + deputies)
    ]
    slots = []
    for day in sorted(draw(st.sets(days, max_size=40))):
        for hour in sorted(draw(st.sets(st.sampled_from([9, 14]), min_size=1))):
            start = at(day, hour)
            slots.append(
                Slot(
                    (day, hour),
                    5,
                    day,
                    start,
                    start + dt.timedelta(hours=3),
                    draw(st.integers(1, 4)),
                )
            )
    return slots, candidates


@settings(max_examples=200, deadline=None)
@given(instance=single_workroom())
def test_single_workroom_days_differ_by_at_most_one(instance):
    slots, candidates = instance
    result = assign_deputies(slots, candidates)
    load = Counter({c.deputy_id: 0 for c in candidates})
    for deputies in result.assignments.values():
        load.update(deputies)
    assert max(load.values()) - min(load.values()) <= 1
    if slots:
        assert result.spread == {5: max(load.values()) - min(load.values())}
    for key, why in result.unfilled.items():
        assert why.attached == len(candidates) < why.needed
        assert len(result.assignments[key]) == len(candidates)


def test_fewest_served_then_longest_since_last_go_first():
    day = D(2026, 3, 4)
    candidates = [
        Candidate(1, frozenset({1}), served_12m=3, last_served=D(2025, 6, 1)),
        Candidate(2, frozenset({1}), served_12m=1, last_served=D(2026, 2, 20)),
        Candidate(3, frozenset({1}), served_12m=1, last_served=D(2025, 12, 1)),
        Candidate(4, frozenset({1}), served_12m=1, last_served=None),
    ]
    slot = Slot("a", 1, day, at(day, 9), at(day, 11), 3)
    assert assign_deputies([slot], candidates).assignments == {"a": [4, 3, 2]}


@pytest.fixture
def in_app(app):
    """An app context: the explanations' catalogs live in the app."""
    with app.app_context():
        yield


def test_explanations_in_words(in_app):
    why = Explanation(needed=2, assigned=1, attached=9, unavailable=5, at_cap=3)
    assert (
        explain(why, "en") == "needs 2 deputies, 1 assigned: 5 unavailable, 3 at their monthly cap"
    )
    assert explain(why, "zh_Hans_CN") == "需要2名代表，已安排1名：5名不可用，3名已达本月上限"
    busy = Explanation(needed=3, assigned=0, attached=2, busy_elsewhere=2)
    assert explain(busy, "en") == (
        "needs 3 deputies, 0 assigned: 2 busy elsewhere at that time, only 2 deputies attached"
    )
    assert (
        explain(busy, "zh")
        == "需要3名代表，已安排0名：2名同一时间另有接待，本工作室仅有2名联系代表"
    )
    nobody = Explanation(needed=1, assigned=0, attached=0)
    assert (
        explain(nobody, "en")
        == "needs 1 deputy, 0 assigned: no deputy is attached to this workroom"
    )
    assert explain(nobody, "zh") == "需要1名代表，已安排0名：本工作室没有联系代表"
    assert Explanation.from_dict(why.to_dict()) == why


def test_duplicate_input_is_refused():
    day = D(2026, 3, 4)
    slot = Slot("a", 1, day, at(day, 9), at(day, 11), 1)
    with pytest.raises(ValueError):
        assign_deputies([slot, slot], [])
    with pytest.raises(ValueError):
        assign_deputies([slot], [Candidate(1, frozenset({1}))] * 2)


# Drafting in the database.

NOW = dt.datetime(2026, 1, 20, 2, 0)
WEDNESDAYS = "FREQ=WEEKLY;BYDAY=WE"


def _rule(db, workroom, **kw):
    kw.setdefault("rrule", WEDNESDAYS)
    kw.setdefault("starts_at_time", dt.time(9))
    kw.setdefault("ends_at_time", dt.time(11, 30))
    kw.setdefault("deputies_needed", 2)
    kw.setdefault("capacity", 15)
    kw.setdefault("valid_from", D(2026, 1, 1))
    kw.setdefault("on_non_working_day", "skip")
    rule = ReceptionRule(workroom=workroom, **kw)
    db.session.add(rule)
    db.session.commit()
    return rule


def _deputies(make_deputy, workroom, n, **kw):
    deputies = [make_deputy(**kw) for _ in range(n)]
    for deputy in deputies:
        deputy.workrooms.append(workroom)
    return deputies


def _days(db, workroom):
    return db.session.scalars(
        sa.select(ReceptionDay)
        .where(ReceptionDay.workroom_id == workroom.id)
        .order_by(ReceptionDay.starts_at)
    ).all()


def test_generate_drafts_the_month_fairly(db, make_workroom, make_deputy):
    room = make_workroom()
    rule = _rule(db, room)
    deputies = _deputies(make_deputy, room, 3)
    db.session.commit()

    result = generate_roster(D(2026, 2, 1), D(2026, 2, 28), NOW, working)
    db.session.commit()

    rows = _days(db, room)
    # Wednesday 02-18 falls in the Spring Festival and the rule skips it.
    assert [r.day for r in rows] == [D(2026, 2, 4), D(2026, 2, 11), D(2026, 2, 25)]
    first = rows[0]
    assert (first.status, first.rule_id, first.capacity, first.deputies_needed) == (
        "draft",
        rule.id,
        15,
        2,
    )
    # 09:00 in Shanghai is 01:00 UTC.
    assert first.starts_at == dt.datetime(2026, 2, 4, 1, 0)
    assert first.ends_at == dt.datetime(2026, 2, 4, 3, 30)
    load = Counter(a.deputy_id for r in rows for a in r.assignments)
    assert sorted(load.values()) == [2, 2, 2] and set(load) == {d.id for d in deputies}
    assert all(r.unfilled is None and r.unfilled_text("en") == "" for r in rows)
    assert result.spread == {room.id: 0}
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "roster.generate"))


def test_regenerating_leaves_published_days_alone(db, make_workroom, make_deputy):
    room = make_workroom()
    _rule(db, room, deputies_needed=1)
    deputies = _deputies(make_deputy, room, 2)
    db.session.commit()
    generate_roster(D(2026, 3, 1), D(2026, 3, 31), NOW, working)
    db.session.commit()
    rows = _days(db, room)
    published = rows[0]
    published.status, published.published_at = "published", NOW
    published_deputy = published.assignments[0].deputy_id
    draft_ids = {r.day: r.id for r in rows[1:]}
    db.session.commit()

    # One deputy is away for the rest of March; the other takes every draft.
    other = next(d for d in deputies if d.id != published_deputy)
    db.session.add(Unavailability(deputy=other, starts_on=D(2026, 3, 5), ends_on=D(2026, 3, 31)))
    db.session.commit()
    generate_roster(D(2026, 3, 1), D(2026, 3, 31), NOW, working)
    db.session.commit()
    db.session.expire_all()

    rows = _days(db, room)
    assert [r.day for r in rows] == [D(2026, 3, d) for d in (4, 11, 18, 25)]
    assert rows[0].id == published.id and rows[0].status == "published"
    assert [a.deputy_id for a in rows[0].assignments] == [published_deputy]
    assert {r.day: r.id for r in rows[1:]} == draft_ids
    assert all([a.deputy_id for a in r.assignments] == [published_deputy] for r in rows[1:])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 4


def test_unfilled_places_are_explained_and_kept(db, make_workroom, make_deputy):
    room = make_workroom()
    _rule(db, room, deputies_needed=3)
    away, capped, free = _deputies(make_deputy, room, 3)
    capped.monthly_cap = 1
    db.session.add(Unavailability(deputy=away, starts_on=D(2026, 3, 1), ends_on=D(2026, 3, 31)))
    db.session.commit()

    result = generate_roster(D(2026, 3, 1), D(2026, 3, 31), NOW, working, [room.id])
    db.session.commit()

    rows = _days(db, room)
    assert len(rows) == 4 and len(result.unfilled) == 4
    second = rows[1]
    assert [a.deputy_id for a in second.assignments] == [free.id]
    assert second.unfilled_text("en") == (
        "needs 3 deputies, 1 assigned: 1 unavailable, 1 at their monthly cap"
    )
    assert (
        second.unfilled_text("zh_Hans_CN") == "需要3名代表，已安排1名：1名不可用，1名已达本月上限"
    )


def test_no_deputy_in_two_workrooms_at_once(db, make_workroom, make_deputy):
    east, west = make_workroom(), make_workroom()
    _rule(db, east, deputies_needed=1)
    shared = make_deputy()
    shared.workrooms.extend([east, west])
    db.session.commit()
    # West already holds a published Wednesday morning with the shared deputy.
    busy_day = ReceptionDay(
        workroom=west,
        day=D(2026, 3, 4),
        starts_at=dt.datetime(2026, 3, 4, 2, 0),
        ends_at=dt.datetime(2026, 3, 4, 4, 0),
        status="published",
        published_at=NOW,
        assignments=[Assignment(deputy_id=shared.id)],
    )
    db.session.add(busy_day)
    db.session.commit()

    generate_roster(D(2026, 3, 1), D(2026, 3, 11), NOW, working, [east.id])
    db.session.commit()

    first, second = _days(db, east)
    assert first.assignments == [] and first.unfilled_text("en") == (
        "needs 1 deputy, 0 assigned: 1 busy elsewhere at that time"
    )
    assert [a.deputy_id for a in second.assignments] == [shared.id]


def test_drafts_follow_the_rules_and_never_rewrite_the_past(db, make_workroom, make_deputy):
    room = make_workroom()
    rule = _rule(db, room, deputies_needed=1)
    _deputies(make_deputy, room, 1)
    db.session.commit()
    generate_roster(D(2026, 3, 1), D(2026, 3, 31), NOW, working)
    db.session.commit()

    rule.active = False
    _rule(db, room, rrule="FREQ=MONTHLY;BYDAY=2TH,4TH", deputies_needed=1)
    later = dt.datetime(2026, 3, 12, 0, 0)
    generate_roster(D(2026, 3, 1), D(2026, 3, 31), later, working)
    db.session.commit()

    # Drafts that had begun (03-04, 03-11) stay; the rest follow the new rule.
    assert [r.day for r in _days(db, room)] == [
        D(2026, 3, 4),
        D(2026, 3, 11),
        D(2026, 3, 12),
        D(2026, 3, 26),
    ]


def test_period_is_checked(app, db):
    with app.test_request_context(), pytest.raises(DomainError) as caught:
        generate_roster(D(2026, 3, 31), D(2026, 3, 1), NOW, working)
    assert caught.value.field == "end"
    with app.test_request_context(), pytest.raises(DomainError):
        generate_roster(D(2026, 1, 1), D(2027, 1, 2), NOW, working)
