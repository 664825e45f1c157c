"""The one clock: the configured zone, local dates of stored moments, and the UTC bounds
of local days, weeks, months, quarters and years."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from workroom import clock
from workroom.clock import Period, as_utc_naive, local_date, period_of, to_local, to_utc


def test_outside_an_app_context_the_default_zone_is_used():
    assert clock.zone().key == "Asia/Shanghai"
    # 16:30 UTC on 3 March is half past midnight on 4 March in Shanghai.
    assert local_date(dt.datetime(2026, 3, 3, 16, 30)) == dt.date(2026, 3, 4)


def test_an_unset_zone_falls_back_to_the_default(app):
    app.config["TIMEZONE"] = ""
    with app.app_context():
        assert clock.zone().key == "Asia/Shanghai"


def test_the_configured_zone_is_used(app):
    app.config["TIMEZONE"] = "Europe/Berlin"
    with app.app_context():
        assert clock.zone().key == "Europe/Berlin"
        assert to_utc(dt.date(2026, 7, 1), dt.time(9)) == dt.datetime(2026, 7, 1, 7, 0)


def test_stored_moments_and_aware_ones_convert_alike():
    naive = dt.datetime(2026, 12, 2, 2, 0)
    aware = dt.datetime(2026, 12, 2, 10, 0, tzinfo=clock.zone())
    assert as_utc_naive(aware) == naive
    assert as_utc_naive(naive) is naive
    assert to_local(naive) == aware
    assert to_local(naive).utcoffset() == dt.timedelta(hours=8)
    assert to_utc(dt.date(2026, 12, 2), dt.time(10)) == naive


def test_utcnow_is_naive_utc():
    with time_machine.travel(dt.datetime(2026, 5, 1, 23, 59, tzinfo=dt.UTC), tick=False):
        assert clock.utcnow() == dt.datetime(2026, 5, 1, 23, 59)
        assert clock.local_today() == dt.date(2026, 5, 2)


@pytest.mark.parametrize(
    ("kind", "first", "last"),
    [
        ("day", dt.date(2026, 2, 18), dt.date(2026, 2, 18)),
        ("week", dt.date(2026, 2, 16), dt.date(2026, 2, 22)),
        ("month", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        ("quarter", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("year", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ],
)
def test_periods_hold_the_day_and_start_at_local_midnight(kind, first, last):
    period = period_of(kind, dt.date(2026, 2, 18))  # a Wednesday
    assert (period.first, period.last) == (first, last)
    assert dt.date(2026, 2, 18) in period
    # Midnight in Shanghai is 16:00 UTC the day before.
    assert period.start == dt.datetime.combine(first - dt.timedelta(days=1), dt.time(16))
    assert period.end == dt.datetime.combine(last, dt.time(16))
    assert period.days == (last - first).days + 1


def test_quarters_and_leap_years():
    assert period_of("quarter", dt.date(2028, 11, 30)) == Period(
        dt.date(2028, 10, 1), dt.date(2028, 12, 31)
    )
    assert period_of("month", dt.date(2028, 2, 10)).last == dt.date(2028, 2, 29)


def test_a_day_with_a_clock_change_is_23_hours_long(app):
    app.config["TIMEZONE"] = "Europe/Berlin"
    with app.app_context():
        day = period_of("day", dt.date(2026, 3, 29))
        assert day.end - day.start == dt.timedelta(hours=23)
        assert clock.local_day_bounds(dt.date(2026, 3, 29)) == (day.start, day.end)


def test_an_unknown_period_is_refused():
    with pytest.raises(ValueError, match="fortnight"):
        period_of("fortnight", dt.date(2026, 1, 1))
