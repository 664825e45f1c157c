"""Reception rules: plain choices to RFC 5545 RRULE text and back, plain words in Chinese
and English, and the dates a rule falls on once the working-day calendar is applied.

Everything here is pure: the calendar comes in as ``is_working_day(day) -> bool``.

The supported subset of RFC 5545 (anything else raises DomainError):

- ``FREQ=WEEKLY;BYDAY=MO,WE`` — weekly on chosen weekdays;
- ``FREQ=MONTHLY;BYDAY=2WE,4WE`` — monthly on the Nth weekday(s), N in 1..5 or -1 (last);
- ``FREQ=MONTHLY;BYMONTHDAY=15`` — monthly on day(s) of the month, 1..31 or -1 (last).
  As in RFC 5545, a month without that day (the 31st in April) has no occurrence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from dateutil import rrule as du
from flask_babel import lazy_gettext as _l

from workroom.errors import DomainError

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
LAST = -1
NTH_CHOICES = (1, 2, 3, 4, 5, LAST)
KINDS = {
    "weekly": _l("Weekly on chosen weekdays"),
    "monthly_weekday": _l("Monthly on the Nth weekday"),
    "monthly_day": _l("Monthly on a day of the month"),
}
POLICIES = ("skip", "next_working_day")
MAX_DEPUTIES = 10
# A holiday never lasts this long; a longer gap means the calendar is wrong.
MAX_MOVE_DAYS = 60

_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNSUPPORTED = _l(
    "Use a supported recurrence: weekly on chosen weekdays, monthly on the Nth weekday, "
    "or monthly on a day of the month."
)

IsWorkingDay = Callable[[dt.date], bool]


@dataclass(frozen=True)
class RuleSpec:
    """A parsed rule. Weekdays count from 0 (Monday).

    ``positions`` are (nth, weekday) pairs of a monthly-weekday rule, nth -1 meaning last.
    """

    kind: str
    weekdays: tuple[int, ...] = ()
    positions: tuple[tuple[int, int], ...] = ()
    month_days: tuple[int, ...] = ()

    @property
    def nths(self) -> tuple[int, ...]:
        return tuple(sorted({n for n, _ in self.positions}, key=_nth_order))

    def choices(self) -> dict[str, object]:
        """The plain choices :func:`build_rrule` takes to give this rule back (to fill a form)."""
        weekdays = self.weekdays or tuple(sorted({w for _, w in self.positions}))
        return {
            "kind": self.kind,
            "weekdays": [WEEKDAY_CODES[w] for w in weekdays],
            "nth": list(self.nths),
            "month_day": list(self.month_days),
        }

    def to_rrule(self) -> str:
        """The canonical RRULE text (fixed order, no duplicates)."""
        if self.kind == "weekly":
            return "FREQ=WEEKLY;BYDAY=" + ",".join(WEEKDAY_CODES[w] for w in self.weekdays)
        if self.kind == "monthly_weekday":
            return "FREQ=MONTHLY;BYDAY=" + ",".join(
                f"{n}{WEEKDAY_CODES[w]}" for n, w in self.positions
            )
        return "FREQ=MONTHLY;BYMONTHDAY=" + ",".join(str(d) for d in self.month_days)


class RuleLike(Protocol):
    rrule: str
    valid_from: dt.date
    valid_until: dt.date | None
    on_non_working_day: str


def _nth_order(nth: int) -> int:
    return 99 if nth == LAST else nth


def _make_spec(
    kind: str,
    weekdays: Iterable[int] = (),
    positions: Iterable[tuple[int, int]] = (),
    month_days: Iterable[int] = (),
) -> RuleSpec:
    return RuleSpec(
        kind=kind,
        weekdays=tuple(sorted(set(weekdays))),
        positions=tuple(sorted(set(positions), key=lambda p: (p[1], _nth_order(p[0])))),
        month_days=tuple(sorted(set(month_days), key=_nth_order)),
    )


def _weekday_index(value: int | str) -> int:
    if isinstance(value, str):
        code = value.strip().upper()[:2]
        if code in WEEKDAY_CODES:
            return WEEKDAY_CODES.index(code)
        if value.strip().isdigit():
            value = int(value)
        else:
            raise DomainError(_l("Choose the weekdays."), "weekdays")
    if not 0 <= int(value) <= 6:
        raise DomainError(_l("Choose the weekdays."), "weekdays")
    return int(value)


def _as_ints(values: int | str | Iterable[int | str] | None, field: str, message) -> list[int]:
    if values is None or values == "":
        return []
    if isinstance(values, int | str):
        values = [values]
    out = []
    for value in values:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            raise DomainError(message, field) from None
    return out


def build_rrule(
    kind: str,
    weekdays: Iterable[int | str] = (),
    nth: int | str | Iterable[int | str] | None = (),
    month_day: int | str | Iterable[int | str] | None = (),
) -> str:
    """The RRULE text for plain choices.

    ``kind`` is "weekly" (``weekdays``), "monthly_weekday" (``weekdays`` × ``nth``, nth in
    1..5 or -1 for the last) or "monthly_day" (``month_day`` in 1..31 or -1 for the last
    day). Weekdays are 0 (Monday) to 6 or codes "MO".."SU". Raises DomainError on the
    field that is missing or out of range.
    """
    if kind not in KINDS:
        raise DomainError(_l("Choose how the reception day repeats."), "kind")
    if kind == "monthly_day":
        message = _l("Choose days of the month between 1 and 31, or the last day.")
        days = _as_ints(month_day, "month_day", message)
        if not days or any(d != LAST and not 1 <= d <= 31 for d in days):
            raise DomainError(message, "month_day")
        return _make_spec(kind, month_days=days).to_rrule()
    days = [_weekday_index(w) for w in weekdays or ()]
    if not days:
        raise DomainError(_l("Choose the weekdays."), "weekdays")
    if kind == "weekly":
        return _make_spec(kind, weekdays=days).to_rrule()
    message = _l("Choose which weeks of the month: 1st to 5th, or the last.")
    nths = _as_ints(nth, "nth", message)
    if not nths or any(n not in NTH_CHOICES for n in nths):
        raise DomainError(message, "nth")
    return _make_spec(kind, positions=[(n, w) for n in nths for w in days]).to_rrule()


def parse_rrule(text: str) -> RuleSpec:
    """Parse RRULE text of the supported subset (an "RRULE:" prefix is allowed).

    Raises DomainError on field "rrule" for anything else: other frequencies, COUNT,
    UNTIL, INTERVAL, BYSETPOS, a monthly BYDAY without its week number, bad values.
    """
    raw = (text or "").strip()
    if raw.upper().startswith("RRULE:"):
        raw = raw[len("RRULE:") :]
    parts: dict[str, str] = {}
    for item in raw.split(";"):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        key = key.strip().upper()
        if not sep or key in parts or key not in ("FREQ", "BYDAY", "BYMONTHDAY"):
            raise DomainError(_UNSUPPORTED, "rrule")
        parts[key] = value.strip().upper()
    freq = parts.get("FREQ")
    if freq == "WEEKLY" and "BYDAY" in parts and "BYMONTHDAY" not in parts:
        weekdays = []
        for token in parts["BYDAY"].split(","):
            match = _BYDAY.match(token.strip())
            if not match or match.group(1):
                raise DomainError(_UNSUPPORTED, "rrule")
            weekdays.append(WEEKDAY_CODES.index(match.group(2)))
        return _make_spec("weekly", weekdays=weekdays)
    if freq == "MONTHLY" and ("BYDAY" in parts) != ("BYMONTHDAY" in parts):
        if "BYDAY" in parts:
            positions = []
            for token in parts["BYDAY"].split(","):
                match = _BYDAY.match(token.strip())
                if not match or not match.group(1) or int(match.group(1)) not in NTH_CHOICES:
                    raise DomainError(_UNSUPPORTED, "rrule")
                positions.append((int(match.group(1)), WEEKDAY_CODES.index(match.group(2))))
            return _make_spec("monthly_weekday", positions=positions)
        days = []
        for token in parts["BYMONTHDAY"].split(","):
            token = token.strip()
            if not re.fullmatch(r"[+-]?\d{1,2}", token):
                raise DomainError(_UNSUPPORTED, "rrule")
            day = int(token)
            if day != LAST and not 1 <= day <= 31:
                raise DomainError(_UNSUPPORTED, "rrule")
            days.append(day)
        return _make_spec("monthly_day", month_days=days)
    raise DomainError(_UNSUPPORTED, "rrule")


def check_rule(
    *,
    rrule: str,
    starts_at_time: dt.time,
    ends_at_time: dt.time,
    deputies_needed: int,
    capacity: int,
    valid_from: dt.date,
    valid_until: dt.date | None,
    on_non_working_day: str,
) -> str:
    """Check a rule's fields together; return the canonical RRULE text.

    Raises DomainError on the first field that is wrong.
    """
    canonical = parse_rrule(rrule).to_rrule()
    if starts_at_time is None:
        raise DomainError(_l("Enter the start time."), "starts_at_time")
    if ends_at_time is None or ends_at_time <= starts_at_time:
        raise DomainError(_l("The reception must end after it starts."), "ends_at_time")
    if deputies_needed is None or not 1 <= deputies_needed <= MAX_DEPUTIES:
        raise DomainError(
            _l("Between 1 and %(most)s deputies.", most=MAX_DEPUTIES), "deputies_needed"
        )
    if capacity is None or capacity < 0:
        raise DomainError(_l("Enter how many visitors can be received."), "capacity")
    if valid_from is None:
        raise DomainError(_l("Enter the first day the rule applies."), "valid_from")
    if valid_until is not None and valid_until < valid_from:
        raise DomainError(_l("The rule must end on or after the day it starts."), "valid_until")
    if on_non_working_day not in POLICIES:
        raise DomainError(_l("Choose what happens on a non-working day."), "on_non_working_day")
    return canonical


# Plain words. Both languages are built here rather than through the catalogs because
# their grammar differs and pages show both (the bilingual notice).

_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ZH_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_ZH_WEEKDAYS_SHORT = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _is_chinese(locale: object) -> bool:
    return str(locale or "").lower().startswith("zh")


def _en_join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _en_ordinal(n: int) -> str:
    if n == LAST:
        return "last"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _zh_nths(nths: Iterable[int]) -> str:
    numbers = [str(n) for n in nths if n != LAST]
    text = f"第{'、'.join(numbers)}个" if numbers else ""
    if LAST in nths:
        text = f"{text}和最后一个" if text else "最后一个"
    return text


def _describe_days(spec: RuleSpec, chinese: bool) -> str:
    if spec.kind == "weekly":
        if chinese:
            return "每" + "、".join(_ZH_WEEKDAYS_SHORT[w] for w in spec.weekdays)
        return "every " + _en_join([_EN_WEEKDAYS[w] for w in spec.weekdays])
    if spec.kind == "monthly_day":
        if chinese:
            return "每月" + "、".join(
                "最后一天" if d == LAST else f"{d}日" for d in spec.month_days
            )
        words = ["last day" if d == LAST else _en_ordinal(d) for d in spec.month_days]
        return f"on the {_en_join(words)} of every month"
    by_weekday: dict[int, list[int]] = {}
    for n, w in spec.positions:
        by_weekday.setdefault(w, []).append(n)
    groups = {tuple(sorted(ns, key=_nth_order)) for ns in by_weekday.values()}
    tail = " of the month" if LAST in spec.nths else ""
    if len(groups) == 1:
        nths = groups.pop()
        if chinese:
            return "每月" + _zh_nths(nths) + "、".join(_ZH_WEEKDAYS[w] for w in by_weekday)
        names = _en_join([_EN_WEEKDAYS[w] for w in by_weekday])
        if nths == (LAST,):
            return f"the last {names} of every month"
        return f"every {_en_join([_en_ordinal(n) for n in nths])} {names}{tail}"
    if chinese:
        return "每月" + "、".join(_zh_nths(ns) + _ZH_WEEKDAYS[w] for w, ns in by_weekday.items())
    phrases = [
        f"{_en_join([_en_ordinal(n) for n in ns])} {_EN_WEEKDAYS[w]}"
        for w, ns in by_weekday.items()
    ]
    return f"every {_en_join(phrases)}{tail}"


def describe_rule(
    rrule_text: str,
    start: dt.time,
    end: dt.time,
    deputies: int,
    locale: object = "zh_Hans_CN",
) -> str:
    """The rule in plain words, in Chinese for a "zh…" locale and English otherwise.

    "每月第2、4个星期三 09:00–11:30，2名代表" /
    "every 2nd and 4th Wednesday, 09:00–11:30, 2 deputies".
    Raises DomainError if the RRULE text is outside the supported subset.
    """
    spec = parse_rrule(rrule_text)
    chinese = _is_chinese(locale)
    days = _describe_days(spec, chinese)
    window = f"{start:%H:%M}–{end:%H:%M}"
    if chinese:
        return f"{days} {window}，{deputies}名代表"
    return f"{days}, {window}, {deputies} {'deputy' if deputies == 1 else 'deputies'}"


def describe_policy(policy: str, locale: object = "zh_Hans_CN") -> str:
    """What a rule does on a non-working day, in plain words."""
    if _is_chinese(locale):
        return "遇节假日顺延至下一个工作日" if policy == "next_working_day" else "遇节假日不安排"
    if policy == "next_working_day":
        return "on a non-working day, moved to the next working day"
    return "skipped on non-working days"


def next_working_day(day: dt.date, is_working_day: IsWorkingDay) -> dt.date:
    """The first working day after ``day``.

    Raises DomainError if none comes within MAX_MOVE_DAYS (a calendar without working days).
    """
    for offset in range(1, MAX_MOVE_DAYS + 1):
        candidate = day + dt.timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    raise DomainError(
        _l("No working day within %(days)s days after %(day)s.", days=MAX_MOVE_DAYS, day=day)
    )


def _expand(spec: RuleSpec, first: dt.date, last: dt.date) -> list[dt.date]:
    common = {
        "dtstart": dt.datetime.combine(first, dt.time()),
        "until": dt.datetime.combine(last, dt.time()),
        "cache": False,
    }
    if spec.kind == "weekly":
        recurrence = du.rrule(du.WEEKLY, byweekday=spec.weekdays, **common)
    elif spec.kind == "monthly_weekday":
        weekdays = [du.weekday(w, n) for n, w in spec.positions]
        recurrence = du.rrule(du.MONTHLY, byweekday=weekdays, **common)
    else:
        recurrence = du.rrule(du.MONTHLY, bymonthday=spec.month_days, **common)
    return [moment.date() for moment in recurrence]


def occurrences(
    rule: RuleLike, start: dt.date, end: dt.date, is_working_day: IsWorkingDay
) -> list[dt.date]:
    """The dates the rule holds a reception in [start, end], in order, without repeats.

    A date the recurrence gives on a non-working day is dropped ("skip") or moved to the
    next working day ("next_working_day"); a moved date that lands on another occurrence
    is merged with it. A makeup workday (调休) is a working day like any other. The
    recurrence date must be on or after ``valid_from`` and the date held on or before
    ``valid_until``; a recurrence date just before ``start`` may move into the period.
    Raises DomainError for an unsupported RRULE or a calendar without working days.
    """
    spec = parse_rrule(rule.rrule)
    moving = rule.on_non_working_day == "next_working_day"
    first = max(start, rule.valid_from)
    last = min(end, rule.valid_until) if rule.valid_until else end
    if first > last:
        return []
    scan_from = max(first - dt.timedelta(days=MAX_MOVE_DAYS), rule.valid_from) if moving else first
    held: set[dt.date] = set()
    for day in _expand(spec, scan_from, last):
        if not is_working_day(day):
            if not moving:
                continue
            day = next_working_day(day, is_working_day)
        if first <= day <= last:
            held.add(day)
    return sorted(held)
