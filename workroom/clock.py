"""The one clock: the configured zone and every conversion between stored and local time.

Timestamp columns hold naive UTC. People think in local dates and wall-clock times in
``TIMEZONE`` (Asia/Shanghai by default). Everything that turns one into the other is
here: the current moment, the local date and time of a stored moment, the UTC moment
of a local date and time, and the UTC bounds of a local day, week, month, quarter and
year. Outside an app context, or when no zone is configured, the default zone is used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"
# The lengths of a period, for reports and exports.
PERIOD_KINDS = ("day", "week", "month", "quarter", "year")


def zone() -> ZoneInfo:
    """The configured zone (TIMEZONE), or the default outside an app context."""
    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def utcnow() -> dt.datetime:
    """The current time in UTC, naive, as every timestamp column stores it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def as_utc_naive(moment: dt.datetime) -> dt.datetime:
    """``moment`` as stored in timestamp columns: naive UTC (aware values are converted,
    naive ones are taken as UTC already)."""
    if moment.tzinfo is not None:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def to_local(moment: dt.datetime) -> dt.datetime:
    """A stored moment (naive UTC, or aware) as an aware time in the configured zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone())


def local_date(moment: dt.datetime) -> dt.date:
    """The local date at ``moment`` (naive UTC, or aware): the day a ticket belongs to,
    the day a deadline is counted from."""
    return to_local(moment).date()


def to_utc(day: dt.date, time: dt.time = dt.time()) -> dt.datetime:
    """The naive UTC moment of the local wall-clock ``time`` on ``day``."""
    return dt.datetime.combine(day, time, tzinfo=zone()).astimezone(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Period:
    """Local dates ``first`` to ``last`` (both included), and the naive UTC moments at
    which they begin (``start``) and the day after ``last`` begins (``end``): a stored
    moment ``m`` falls in the period when ``start <= m < end``."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return to_utc(self.first)

    @property
    def end(self) -> dt.datetime:
        return to_utc(self.last + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: dt.date) -> bool:
        return self.first <= day <= self.last


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The naive UTC moments at which local ``day`` starts and the next day starts."""
    period = Period(day, day)
    return period.start, period.end


def period_of(kind: str, day: dt.date) -> Period:
    """The local day, ISO week (Monday to Sunday), month, quarter or year holding ``day``.

    Raises ValueError for another ``kind`` (see PERIOD_KINDS).
    """
    if kind == "day":
        return Period(day, day)
    if kind == "week":
        first = day - dt.timedelta(days=day.weekday())
        return Period(first, first + dt.timedelta(days=6))
    if kind == "month":
        first = day.replace(day=1)
        return Period(first, first + relativedelta(months=1, days=-1))
    if kind == "quarter":
        first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period(first, first + relativedelta(months=3, days=-1))
    if kind == "year":
        return Period(dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
    raise ValueError(f"Unknown period {kind!r}; expected one of {', '.join(PERIOD_KINDS)}")


def local_today() -> dt.date:
    """Today's local date."""
    return local_date(utcnow())
