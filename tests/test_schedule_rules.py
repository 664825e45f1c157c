"""Reception rules: RRULE text from plain choices, plain words, and the dates a rule holds
once the working-day calendar (holidays and makeup workdays) is applied."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workroom.errors import DomainError
from workroom.schedule.models import ReceptionRule
from workroom.schedule.rules import (
    LAST,
    build_rrule,
    check_rule,
    describe_policy,
    describe_rule,
    next_working_day,
    occurrences,
    parse_rrule,
)

D = dt.date

# The State Council's 2026 arrangement: days off and weekend makeup workdays (调休).
HOLIDAYS_2026 = (
    {D(2026, 1, 1), D(2026, 1, 2), D(2026, 1, 3)}
    | {D(2026, 2, 15) + dt.timedelta(days=i) for i in range(9)}
    | {D(2026, 10, 1) + dt.timedelta(days=i) for i in range(7)}
)
MAKEUP_2026 = {
    D(2026, 1, 4),
    D(2026, 2, 14),
    D(2026, 2, 28),
    D(2026, 5, 9),
    D(2026, 9, 20),
    D(2026, 10, 10),
}


def fake_calendar(holidays: set[dt.date] = HOLIDAYS_2026, makeup: set[dt.date] = MAKEUP_2026):
    """A working-day test double: weekdays work, except holidays; makeup days work."""

    def is_working_day(day: dt.date) -> bool:
        return day in makeup or (day.weekday() < 5 and day not in holidays)

    return is_working_day


working = fake_calendar()


@dataclass
class Rule:
    rrule: str
    valid_from: dt.date = D(2026, 1, 1)
    valid_until: dt.date | None = None
    on_non_working_day: str = "skip"


def test_build_rrule_for_each_kind():
    assert build_rrule("weekly", ["FR", "MO", "MO"]) == "FREQ=WEEKLY;BYDAY=MO,FR"
    assert build_rrule("weekly", [2]) == "FREQ=WEEKLY;BYDAY=WE"
    assert build_rrule("monthly_weekday", ["WE"], [4, 2]) == "FREQ=MONTHLY;BYDAY=2WE,4WE"
    assert build_rrule("monthly_weekday", [4], ["-1"]) == "FREQ=MONTHLY;BYDAY=-1FR"
    assert build_rrule("monthly_day", month_day=15) == "FREQ=MONTHLY;BYMONTHDAY=15"
    assert build_rrule("monthly_day", month_day=[-1, 1]) == "FREQ=MONTHLY;BYMONTHDAY=1,-1"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "daily"}, "kind"),
        ({"kind": "weekly", "weekdays": []}, "weekdays"),
        ({"kind": "weekly", "weekdays": ["XX"]}, "weekdays"),
        ({"kind": "weekly", "weekdays": [7]}, "weekdays"),
        ({"kind": "monthly_weekday", "weekdays": ["WE"], "nth": []}, "nth"),
        ({"kind": "monthly_weekday", "weekdays": ["WE"], "nth": [6]}, "nth"),
        ({"kind": "monthly_weekday", "weekdays": ["WE"], "nth": ["second"]}, "nth"),
        ({"kind": "monthly_day", "month_day": 32}, "month_day"),
        ({"kind": "monthly_day", "month_day": None}, "month_day"),
    ],
)
def test_build_rrule_names_the_wrong_choice(kwargs, field):
    with pytest.raises(DomainError) as caught:
        build_rrule(**kwargs)
    assert caught.value.field == field


def test_parse_round_trips_and_gives_back_the_choices():
    spec = parse_rrule("RRULE:freq=monthly;byday=+4we,2WE;")
    assert spec.kind == "monthly_weekday"
    assert spec.nths == (2, 4)
    assert {w for _, w in spec.positions} == {2}
    assert spec.to_rrule() == "FREQ=MONTHLY;BYDAY=2WE,4WE"
    assert spec.choices() == {
        "kind": "monthly_weekday",
        "weekdays": ["WE"],
        "nth": [2, 4],
        "month_day": [],
    }
    assert build_rrule(**spec.choices()) == spec.to_rrule()
    assert parse_rrule("FREQ=WEEKLY;BYDAY=WE,MO").weekdays == (0, 2)
    assert parse_rrule("FREQ=MONTHLY;BYMONTHDAY=-1,15").month_days == (15, LAST)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "FREQ=DAILY",
        "FREQ=YEARLY;BYMONTH=1",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;BYDAY=2MO",
        "FREQ=WEEKLY;BYDAY=MO;COUNT=3",
        "FREQ=WEEKLY;BYDAY=MO;INTERVAL=2",
        "FREQ=WEEKLY;BYDAY=MO;UNTIL=20261231",
        "FREQ=WEEKLY;BYDAY=MO;BYDAY=TU",
        "FREQ=MONTHLY",
        "FREQ=MONTHLY;BYDAY=WE",
        "FREQ=MONTHLY;BYDAY=6WE",
        "FREQ=MONTHLY;BYDAY=-2WE",
        "FREQ=MONTHLY;BYDAY=2XX",
        "FREQ=MONTHLY;BYMONTHDAY=0",
        "FREQ=MONTHLY;BYMONTHDAY=32",
        "FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=1MO",
        "FREQ=MONTHLY;BYDAY=2WE;BYSETPOS=1",
    ],
)
def test_anything_outside_the_supported_subset_is_refused(text):
    with pytest.raises(DomainError) as caught:
        parse_rrule(text)
    assert caught.value.field == "rrule"
    with pytest.raises(DomainError):
        occurrences(Rule(text), D(2026, 3, 1), D(2026, 3, 31), working)


def test_rule_in_plain_words_in_both_languages():
    rrule = build_rrule("monthly_weekday", ["WE"], [2, 4])
    nine, half_past_eleven = dt.time(9), dt.time(11, 30)
    assert (
        describe_rule(rrule, nine, half_past_eleven, 2, "en")
        == "every 2nd and 4th Wednesday, 09:00–11:30, 2 deputies"
    )
    assert (
        describe_rule(rrule, nine, half_past_eleven, 2, "zh_Hans_CN")
        == "每月第2、4个星期三 09:00–11:30，2名代表"
    )


@pytest.mark.parametrize(
    ("rrule", "english", "chinese"),
    [
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "every Monday, Wednesday and Friday", "每周一、周三、周五"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "the last Friday of every month", "每月最后一个星期五"),
        (
            "FREQ=MONTHLY;BYDAY=1MO,3FR",
            "every 1st Monday and 3rd Friday",
            "每月第1个星期一、第3个星期五",
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "on the 15th of every month", "每月15日"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1,-1",
            "on the 1st and last day of every month",
            "每月1日、最后一天",
        ),
    ],
)
def test_each_kind_reads_naturally(rrule, english, chinese):
    start, end = dt.time(14, 30), dt.time(17)
    assert describe_rule(rrule, start, end, 1, "en") == f"{english}, 14:30–17:00, 1 deputy"
    assert describe_rule(rrule, start, end, 1, "zh") == f"{chinese} 14:30–17:00，1名代表"


def test_stored_rule_describes_itself():
    rule = ReceptionRule(
        rrule="FREQ=WEEKLY;BYDAY=TH",
        starts_at_time=dt.time(9),
        ends_at_time=dt.time(11, 30),
        deputies_needed=3,
        on_non_working_day="next_working_day",
    )
    assert rule.describe("en") == "every Thursday, 09:00–11:30, 3 deputies"
    assert rule.describe("zh_Hans_CN") == "每周四 09:00–11:30，3名代表"
    assert describe_policy(rule.on_non_working_day, "zh") == "遇节假日顺延至下一个工作日"
    assert describe_policy("skip", "en") == "skipped on non-working days"


def test_weekly_rule_skips_or_moves_a_spring_festival_wednesday():
    skip = Rule("FREQ=WEEKLY;BYDAY=WE")
    february = (D(2026, 2, 1), D(2026, 2, 28))
    assert occurrences(skip, *february, working) == [D(2026, 2, 4), D(2026, 2, 11), D(2026, 2, 25)]
    move = Rule("FREQ=WEEKLY;BYDAY=WE", on_non_working_day="next_working_day")
    # 2026-02-18 is in the holiday; 02-19..02-23 too, so it moves to Tuesday 02-24.
    assert occurrences(move, *february, working) == [
        D(2026, 2, 4),
        D(2026, 2, 11),
        D(2026, 2, 24),
        D(2026, 2, 25),
    ]


def test_monthly_nth_weekday_on_a_holiday():
    third_wednesday = "FREQ=MONTHLY;BYDAY=3WE"
    assert occurrences(Rule(third_wednesday), D(2026, 2, 1), D(2026, 3, 31), working) == [
        D(2026, 3, 18)
    ]
    moved = Rule(third_wednesday, on_non_working_day="next_working_day")
    assert occurrences(moved, D(2026, 2, 1), D(2026, 3, 31), working) == [
        D(2026, 2, 24),
        D(2026, 3, 18),
    ]
    second_and_fourth = Rule("FREQ=MONTHLY;BYDAY=2WE,4WE")
    assert occurrences(second_and_fourth, D(2026, 3, 1), D(2026, 4, 30), working) == [
        D(2026, 3, 11),
        D(2026, 3, 25),
        D(2026, 4, 8),
        D(2026, 4, 22),
    ]


def test_makeup_saturday_is_a_working_day():
    fourteenth = Rule("FREQ=MONTHLY;BYMONTHDAY=14")
    # 2026-02-14 is a Saturday, worked in exchange for the Spring Festival.
    assert occurrences(fourteenth, D(2026, 2, 1), D(2026, 3, 31), working) == [D(2026, 2, 14)]
    saturdays = Rule("FREQ=WEEKLY;BYDAY=SA")
    assert occurrences(saturdays, D(2026, 2, 1), D(2026, 3, 31), working) == [
        D(2026, 2, 14),
        D(2026, 2, 28),
    ]


def test_moving_lands_on_a_makeup_day():
    saturdays = Rule("FREQ=WEEKLY;BYDAY=SA", on_non_working_day="next_working_day")
    # Saturday 01-03 is a holiday; the next working day is the makeup Sunday 01-04.
    assert occurrences(saturdays, D(2026, 1, 1), D(2026, 1, 12), working) == [
        D(2026, 1, 4),
        D(2026, 1, 12),
    ]
    # Saturday 09-19 → makeup Sunday 09-20; the Saturday 09-26 → Monday 09-28.
    assert occurrences(saturdays, D(2026, 9, 19), D(2026, 9, 28), working) == [
        D(2026, 9, 20),
        D(2026, 9, 28),
    ]
    assert next_working_day(D(2026, 2, 13), working) == D(2026, 2, 14)
    assert next_working_day(D(2026, 2, 14), working) == D(2026, 2, 24)


def test_moved_dates_that_collide_are_merged():
    tuesday_wednesday = Rule("FREQ=WEEKLY;BYDAY=TU,WE", on_non_working_day="next_working_day")
    # Tuesday 02-17 and Wednesday 02-18 both move to Tuesday 02-24, itself a rule date.
    assert occurrences(tuesday_wednesday, D(2026, 2, 16), D(2026, 2, 28), working) == [
        D(2026, 2, 24),
        D(2026, 2, 25),
    ]


def test_validity_window_and_period_bounds():
    wednesdays = "FREQ=WEEKLY;BYDAY=WE"
    bounded = Rule(wednesdays, valid_from=D(2026, 2, 11), valid_until=D(2026, 2, 24))
    assert occurrences(bounded, D(2026, 1, 1), D(2026, 3, 31), working) == [D(2026, 2, 11)]
    bounded.on_non_working_day = "next_working_day"
    assert occurrences(bounded, D(2026, 1, 1), D(2026, 3, 31), working) == [
        D(2026, 2, 11),
        D(2026, 2, 24),
    ]
    # A date moved past the end of validity is not held.
    bounded.valid_until = D(2026, 2, 23)
    assert occurrences(bounded, D(2026, 1, 1), D(2026, 3, 31), working) == [D(2026, 2, 11)]
    # A rule date just before the period can move into it; one moved out of it is gone.
    moving = Rule(wednesdays, on_non_working_day="next_working_day")
    assert occurrences(moving, D(2026, 2, 24), D(2026, 2, 28), working) == [
        D(2026, 2, 24),
        D(2026, 2, 25),
    ]
    assert occurrences(moving, D(2026, 2, 12), D(2026, 2, 23), working) == []
    # Before validity starts nothing is held, even a date that would move into it.
    late = Rule(wednesdays, valid_from=D(2026, 2, 19), on_non_working_day="next_working_day")
    assert occurrences(late, D(2026, 2, 1), D(2026, 2, 28), working) == [D(2026, 2, 25)]
    assert occurrences(Rule(wednesdays), D(2026, 3, 10), D(2026, 3, 1), working) == []


def test_thirty_first_is_only_in_long_months():
    rule = Rule("FREQ=MONTHLY;BYMONTHDAY=31")
    assert occurrences(rule, D(2026, 3, 1), D(2026, 6, 30), working) == [D(2026, 3, 31)]
    last = Rule("FREQ=MONTHLY;BYMONTHDAY=-1")
    assert occurrences(last, D(2026, 4, 1), D(2026, 6, 30), working) == [
        D(2026, 4, 30),
        D(2026, 6, 30),
    ]


def test_calendar_without_working_days_is_an_error():
    rule = Rule("FREQ=WEEKLY;BYDAY=MO", on_non_working_day="next_working_day")
    with pytest.raises(DomainError):
        occurrences(rule, D(2026, 3, 1), D(2026, 3, 31), lambda day: False)


def _rule_fields(**changes):
    fields = {
        "rrule": "freq=weekly;byday=fr,mo",
        "starts_at_time": dt.time(9),
        "ends_at_time": dt.time(11, 30),
        "deputies_needed": 2,
        "capacity": 20,
        "valid_from": D(2026, 1, 1),
        "valid_until": None,
        "on_non_working_day": "skip",
    }
    return {**fields, **changes}


def test_check_rule_returns_canonical_text():
    assert check_rule(**_rule_fields()) == "FREQ=WEEKLY;BYDAY=MO,FR"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rrule": "FREQ=DAILY"}, "rrule"),
        ({"ends_at_time": dt.time(9)}, "ends_at_time"),
        ({"deputies_needed": 0}, "deputies_needed"),
        ({"deputies_needed": 11}, "deputies_needed"),
        ({"capacity": -1}, "capacity"),
        ({"valid_until": D(2025, 12, 31)}, "valid_until"),
        ({"on_non_working_day": "ignore"}, "on_non_working_day"),
    ],
)
def test_check_rule_names_the_wrong_field(changes, field):
    with pytest.raises(DomainError) as caught:
        check_rule(**_rule_fields(**changes))
    assert caught.value.field == field


# Properties: whatever the rule and the holidays, a held date is a working day in the
# period and validity, and it is the rule's date or the first working day after one.

weekday_lists = st.lists(st.integers(0, 6), min_size=1, max_size=3)
rrules = st.one_of(
    st.builds(lambda w: build_rrule("weekly", w), weekday_lists),
    st.builds(
        lambda w, n: build_rrule("monthly_weekday", w, n),
        weekday_lists,
        st.lists(st.sampled_from([1, 2, 3, 4, 5, -1]), min_size=1, max_size=2),
    ),
    st.builds(
        lambda d: build_rrule("monthly_day", month_day=d),
        st.lists(st.sampled_from([1, 7, 14, 15, 28, 29, 30, 31, -1]), min_size=1, max_size=2),
    ),
)
year_days = st.integers(0, 364).map(lambda i: D(2026, 1, 1) + dt.timedelta(days=i))


@settings(max_examples=150, deadline=None)
@given(
    rrule=rrules,
    policy=st.sampled_from(["skip", "next_working_day"]),
    holidays=st.sets(year_days, max_size=40),
    makeup=st.sets(year_days, max_size=6),
    bounds=st.tuples(year_days, year_days, year_days, st.one_of(st.none(), year_days)),
)
def test_held_dates_respect_the_calendar(rrule, policy, holidays, makeup, bounds):
    start, end, valid_from, valid_until = bounds
    if valid_until is not None and valid_until < valid_from:
        valid_from, valid_until = valid_until, valid_from
    assert build_rrule(**parse_rrule(rrule).choices()) == rrule
    calendar = fake_calendar(holidays, makeup)
    rule = Rule(rrule, valid_from, valid_until, policy)
    held = occurrences(rule, start, end, calendar)

    assert held == sorted(set(held))
    for day in held:
        assert calendar(day)
        assert max(start, valid_from) <= day <= min(end, valid_until or end)

    rule_dates = occurrences(Rule(rrule), D(2025, 10, 1), D(2027, 3, 31), lambda day: True)
    expected = set()
    for day in rule_dates:
        if day < valid_from:
            continue
        if not calendar(day):
            if policy == "skip":
                continue
            day = next_working_day(day, calendar)
        if max(start, valid_from) <= day <= min(end, valid_until or end):
            expected.add(day)
    assert held == sorted(expected)
