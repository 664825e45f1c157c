"""The working-day calendar: the one place that decides whether a day is a working day.

China's statutory holidays and weekend makeup workdays (调休) come from the ``holidays``
package; official adjustments entered by staff override it. A year is *confirmed* when
the package carries the State Council's arrangements for it or staff have confirmed it.
Unconfirmed years still get an answer (weekends off, the package's statutory holidays
off), but callers that schedule must check ``require_confirmed`` first.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import holidays
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workroom.audit.log import record
from workroom.clock import utcnow
from workroom.db import db
from workroom.errors import DomainError
from workroom.workdays.models import (
    ADJUSTMENT_KINDS,
    HOLIDAY,
    SOURCES,
    WORKDAY,
    CalendarAdjustment,
    ConfirmedYear,
)

FIRST_YEAR = 2000
LAST_YEAR = 2100
DEFAULT_LANGUAGE = "zh_CN"

# What a day is, for pages that show the calendar.
ORDINARY = "ordinary"
WEEKEND = "weekend"
DAY_OFF = "holiday"
MAKEUP = "makeup"


class Adjustment(NamedTuple):
    """An official change for one day: ``kind`` is ``holiday`` or ``workday``."""

    day: dt.date
    kind: str
    name: str = ""


@dataclass(frozen=True)
class DayInfo:
    day: dt.date
    working: bool
    kind: str  # ORDINARY, WEEKEND, DAY_OFF or MAKEUP
    name: str
    source: str  # "package", "staff" or "" for the ordinary week


@dataclass(frozen=True)
class _PackageYear:
    holidays: dict[dt.date, str]
    makeup_workdays: frozenset[dt.date]


def package_language(locale: Any) -> str:
    """The holidays package's language for a UI locale (its names exist in zh_CN, en_US)."""
    return DEFAULT_LANGUAGE if str(locale or "zh").startswith("zh") else "en_US"


@functools.cache
def package_years() -> frozenset[int]:
    """Years for which the holidays package carries the State Council's arrangements."""
    return frozenset(holidays.China().special_public_holidays)


@functools.lru_cache(maxsize=256)
def _package_year(year: int, language: str) -> _PackageYear:
    china = holidays.China(years=year, language=language)
    return _PackageYear(
        holidays={day: name for day, name in china.items() if day.year == year},
        makeup_workdays=frozenset(d for d in china.weekend_workdays if d.year == year),
    )


def _is_weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


class WorkingCalendar:
    """Working days for some years: package data, overridden by staff adjustments.

    Pure: it reads no database. Years outside ``years`` are answered from the package
    alone and count as confirmed only when the package carries them.
    """

    def __init__(
        self,
        years: Iterable[int],
        adjustments: Iterable[Any] = (),
        confirmed_years: Iterable[int] = (),
        *,
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        self.years = frozenset(years)
        self.language = language
        self._adjustments = {a.day: Adjustment(a.day, a.kind, a.name or "") for a in adjustments}
        self._confirmed = frozenset(confirmed_years) & self.years
        for adjustment in self._adjustments.values():
            if adjustment.kind not in (HOLIDAY, WORKDAY):
                raise ValueError(f"unknown adjustment kind {adjustment.kind!r}")

    def _package(self, year: int) -> _PackageYear:
        return _package_year(year, self.language)

    # One day

    def describe(self, day: dt.date) -> DayInfo:
        """Whether ``day`` is a working day, what kind of day it is, and why."""
        adjustment = self._adjustments.get(day)
        if adjustment is not None:
            if adjustment.kind == HOLIDAY:
                return DayInfo(day, False, DAY_OFF, adjustment.name, "staff")
            kind = MAKEUP if _is_weekend(day) else ORDINARY
            return DayInfo(day, True, kind, adjustment.name, "staff")
        package = self._package(day.year)
        # The package's own rule: a weekend day works only as a makeup workday.
        if _is_weekend(day):
            if day in package.makeup_workdays:
                return DayInfo(day, True, MAKEUP, "", "package")
            name = package.holidays.get(day, "")
            return DayInfo(
                day, False, DAY_OFF if name else WEEKEND, name, "package" if name else ""
            )
        if day in package.holidays:
            return DayInfo(day, False, DAY_OFF, package.holidays[day], "package")
        return DayInfo(day, True, ORDINARY, "", "")

    def is_working_day(self, day: dt.date) -> bool:
        """True on a working day: a weekday that is no holiday, or a makeup workday."""
        adjustment = self._adjustments.get(day)
        if adjustment is not None:
            return adjustment.kind == WORKDAY
        package = self._package(day.year)
        if _is_weekend(day):
            return day in package.makeup_workdays
        return day not in package.holidays

    # Counting

    def next_working_day(self, day: dt.date, include_same_day: bool = True) -> dt.date:
        """The first working day on or after ``day`` (strictly after it when not
        ``include_same_day``)."""
        if not include_same_day:
            day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start``; ``start`` itself never counts.

        So a Friday plus 1 is the next working day (Monday, or a makeup Saturday).
        ``n == 0`` gives ``start`` if it is a working day, else the next one.
        Raises ValueError for a negative ``n``.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            return self.next_working_day(start)
        day = start
        for _ in range(n):
            day = self.next_working_day(day, include_same_day=False)
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days lie in (start, end]: after ``start``, up to and
        including ``end``. Negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start + dt.timedelta(days=1)
        while day <= end:
            count += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return count

    # Confirmation

    def package_carries(self, year: int) -> bool:
        return year in package_years()

    def is_confirmed(self, year: int) -> bool:
        """True when the package carries the year's arrangements or staff confirmed it."""
        return self.package_carries(year) or year in self._confirmed

    def unconfirmed_years(self, start: dt.date, end: dt.date) -> list[int]:
        """The years from ``start`` to ``end`` (either order) that are not confirmed."""
        first, last = sorted((start.year, end.year))
        return [y for y in range(first, last + 1) if not self.is_confirmed(y)]

    def require_confirmed(self, start: dt.date, end: dt.date) -> None:
        """Raise DomainError naming every unconfirmed year from ``start`` to ``end``."""
        missing = self.unconfirmed_years(start, end)
        if missing:
            raise DomainError(unconfirmed_message(missing))

    # Listing

    def special_days(self, year: int) -> list[DayInfo]:
        """Every day of ``year`` that differs from the ordinary week, in date order."""
        day = dt.date(year, 1, 1)
        found = []
        while day.year == year:
            info = self.describe(day)
            if info.kind in (DAY_OFF, MAKEUP) or (info.source == "staff"):
                found.append(info)
            day += dt.timedelta(days=1)
        return found


def unconfirmed_message(years: Iterable[int]) -> Any:
    """The warning shown wherever scheduling touches unconfirmed years."""
    return _l(
        "The holiday arrangements for %(years)s are not confirmed. Enter the State "
        "Council's notice or confirm the year before scheduling.",
        years=", ".join(str(y) for y in years),
    )


# Loading from the database


def working_calendar(years: Iterable[int], *, language: str = DEFAULT_LANGUAGE) -> WorkingCalendar:
    """The calendar for ``years`` with the staff adjustments and confirmations stored
    for them (one query each; package data is cached per process)."""
    years = sorted(set(years))
    if not years:
        return WorkingCalendar((), language=language)
    first, last = years[0], years[-1]
    adjustments = db.session.execute(
        sa.select(CalendarAdjustment.day, CalendarAdjustment.kind, CalendarAdjustment.name).where(
            CalendarAdjustment.day.between(dt.date(first, 1, 1), dt.date(last, 12, 31))
        )
    ).all()
    confirmed = db.session.scalars(
        sa.select(ConfirmedYear.year).where(ConfirmedYear.year.between(first, last))
    ).all()
    return WorkingCalendar(
        range(first, last + 1),
        [Adjustment(*row) for row in adjustments],
        confirmed,
        language=language,
    )


def is_working_day(day: dt.date) -> bool:
    return working_calendar([day.year]).is_working_day(day)


def next_working_day(day: dt.date, include_same_day: bool = True) -> dt.date:
    """The first working day on or after ``day`` (after it when not ``include_same_day``)."""
    # Adding 0 working days stays on a working day; adding 1 always moves on.
    return add_working_days(day, 0 if include_same_day else 1)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """``WorkingCalendar.add_working_days`` with the stored adjustments of every year
    the count passes through."""
    # Even the longest breaks leave more than one working day in two calendar days.
    horizon = start + dt.timedelta(days=2 * n + 40)
    while True:
        result = working_calendar(range(start.year, horizon.year + 1)).add_working_days(start, n)
        if result.year <= horizon.year:
            return result
        horizon = result


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative when ``end`` is before ``start``."""
    first, last = sorted((start.year, end.year))
    return working_calendar(range(first, last + 1)).working_days_between(start, end)


def is_confirmed(year: int) -> bool:
    return working_calendar([year]).is_confirmed(year)


def require_confirmed(start: dt.date, end: dt.date) -> None:
    """Raise DomainError naming the unconfirmed years from ``start`` to ``end``."""
    first, last = sorted((start.year, end.year))
    working_calendar(range(first, last + 1)).require_confirmed(start, end)


# Staff changes


def _check_year(year: int, field: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError(
            _l("Choose a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR),
            field,
        )


def add_adjustment(
    day: dt.date | None,
    kind: str,
    name: str,
    notice: str,
    actor: Any = None,
    *,
    source: str = "staff",
) -> CalendarAdjustment:
    """Record an official day off or makeup workday; it overrides the package.

    Raises DomainError for an unknown kind or source, a day outside 2000–2100, a
    missing name, a missing notice on a staff entry, or a day that already has one.
    """
    name, notice = (name or "").strip(), (notice or "").strip()
    if day is None:
        raise DomainError(_l("Enter the day."), "day")
    _check_year(day.year, "day")
    if kind not in ADJUSTMENT_KINDS:
        raise DomainError(_l("Choose a day off or a makeup workday."), "kind")
    if source not in SOURCES:
        raise DomainError(_l("Choose where the entry comes from."), "source")
    if not name:
        raise DomainError(_l("Enter the holiday it belongs to, such as 春节."), "name")
    if len(name) > 60:
        raise DomainError(_l("Use at most 60 characters."), "name")
    if source == "staff" and not notice:
        raise DomainError(_l("Enter the notice this comes from."), "notice")
    if len(notice) > 100:
        raise DomainError(_l("Use at most 100 characters."), "notice")
    taken = sa.select(CalendarAdjustment.id).where(CalendarAdjustment.day == day)
    if db.session.scalar(taken) is not None:
        raise DomainError(
            _l("%(day)s already has an adjustment. Remove it first.", day=day.isoformat()),
            "day",
        )
    adjustment = CalendarAdjustment(
        day=day,
        kind=kind,
        name=name,
        notice=notice,
        source=source,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(adjustment)
    db.session.flush()
    record(
        "calendar_adjustment.create",
        adjustment,
        summary=_adjustment_words(adjustment),
        actor=actor,
    )
    return adjustment


def _adjustment_words(adjustment: CalendarAdjustment) -> Any:
    return _l(
        "%(day)s %(kind)s %(name)s (%(notice)s)",
        day=adjustment.day.isoformat(),
        kind=ADJUSTMENT_KINDS.get(adjustment.kind, adjustment.kind),
        name=adjustment.name,
        notice=adjustment.notice or "—",
    )


def remove_adjustment(adjustment: CalendarAdjustment, actor: Any = None) -> None:
    """Remove an adjustment; the audit log keeps what it said."""
    record(
        "calendar_adjustment.delete",
        adjustment,
        summary=_adjustment_words(adjustment),
        actor=actor,
    )
    db.session.delete(adjustment)
    db.session.flush()


def confirm_year(
    year: int | None,
    source: str = "staff",
    note: str = "",
    actor: Any = None,
    *,
    now: dt.datetime | None = None,
) -> ConfirmedYear:
    """Mark ``year``'s holiday arrangements as confirmed.

    Raises DomainError for a year outside 2000–2100, an unknown source, a staff
    confirmation without a note naming the notice, or a year already confirmed
    (by the package or before).
    """
    note = (note or "").strip()
    if year is None:
        raise DomainError(_l("Enter the year."), "year")
    _check_year(year, "year")
    if source not in SOURCES:
        raise DomainError(_l("Choose where the entry comes from."), "source")
    if source == "staff" and not note:
        raise DomainError(_l("Name the State Council notice for this year."), "note")
    if len(note) > 200:
        raise DomainError(_l("Use at most 200 characters."), "note")
    if year in package_years():
        raise DomainError(
            _l("The holidays package already carries the arrangements for %(year)s.", year=year),
            "year",
        )
    taken = sa.select(ConfirmedYear.id).where(ConfirmedYear.year == year)
    if db.session.scalar(taken) is not None:
        raise DomainError(_l("%(year)s is already confirmed.", year=year), "year")
    confirmed = ConfirmedYear(
        year=year,
        source=source,
        note=note,
        confirmed_by_id=getattr(actor, "id", None),
        confirmed_at=now or utcnow(),
    )
    db.session.add(confirmed)
    db.session.flush()
    record(
        "confirmed_year.create",
        confirmed,
        summary=_l(
            "%(year)s confirmed (%(source)s): %(note)s",
            year=year,
            source=SOURCES[source],
            note=note or "—",
        ),
        actor=actor,
    )
    return confirmed
