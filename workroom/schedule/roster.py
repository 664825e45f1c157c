"""The roster solver: who holds which reception day. Pure and deterministic.

``assign_deputies`` walks the slots in time order (start, then workroom id, end, key) and
gives each one the best-ranked eligible deputies attached to its workroom. A deputy is
eligible for a slot when they are not unavailable that day, not at their monthly cap
(counting what they already hold that month) and not busy at an overlapping time
anywhere (earlier picks of this run and the commitments given).

Rank, best first:

1. fewest reception days served, all workrooms together: the history given
   (``served_12m``, the trailing 12 months) plus the days picked so far in this run;
2. longest since last served (never served comes first);
3. a stable hash of (deputy id, workroom id), then the deputy id. The hash keeps the same
   deputies from winning every tie in every workroom, and depends on nothing else, so
   the same input always gives the same roster whatever order it is passed in.

For one workroom whose slots do not overlap each other, with no history, caps or
absences, this keeps the days per deputy within 1 of each other. Otherwise the spread is
reported per workroom.

Cost: sorting a workroom's attached deputies per slot, O(slots × c log c) for c deputies
per workroom; overlap checks look only at the deputy's own intervals on that day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

REASONS = ("unavailable", "at_cap", "busy_elsewhere")


@dataclass(frozen=True)
class Slot:
    """A place to fill: ``needed`` deputies at a workroom from ``start`` to ``end``.

    ``day`` is the local date (for unavailability and monthly caps); ``start``/``end`` are
    datetimes in one consistent zone. ``key`` identifies the slot in the result.
    """

    key: Hashable
    workroom_id: int
    day: dt.date
    start: dt.datetime
    end: dt.datetime
    needed: int


@dataclass(frozen=True)
class Candidate:
    """A deputy who may be picked at the workrooms they are attached to.

    ``unavailable`` holds inclusive (first day, last day) periods; ``monthly_cap`` None
    means no cap.
    """

    deputy_id: int
    workroom_ids: frozenset[int]
    monthly_cap: int | None = None
    unavailable: tuple[tuple[dt.date, dt.date], ...] = ()
    served_12m: int = 0
    last_served: dt.date | None = None


@dataclass(frozen=True)
class Commitment:
    """A reception the deputy already holds outside this run: busy then, and it counts
    towards the cap of its month."""

    deputy_id: int
    day: dt.date
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Explanation:
    """Why a slot has fewer deputies than needed.

    Every attached deputy is either assigned or counted under one reason (the first that
    applies, in the order unavailable, at cap, busy elsewhere), so
    ``assigned + unavailable + at_cap + busy_elsewhere == attached``.
    """

    needed: int
    assigned: int
    attached: int
    unavailable: int = 0
    at_cap: int = 0
    busy_elsewhere: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "needed": self.needed,
            "assigned": self.assigned,
            "attached": self.attached,
            "unavailable": self.unavailable,
            "at_cap": self.at_cap,
            "busy_elsewhere": self.busy_elsewhere,
        }

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> Explanation:
        return cls(**{k: int(data.get(k, 0)) for k in cls.__dataclass_fields__})


@dataclass
class RosterResult:
    """Deputies per slot key (best-ranked first; every slot has an entry, maybe empty),
    the explanation of every slot left short, and per workroom the days each eligible
    deputy got in this run and their spread (most minus fewest)."""

    assignments: dict[Hashable, list[int]] = field(default_factory=dict)
    unfilled: dict[Hashable, Explanation] = field(default_factory=dict)
    days: dict[int, dict[int, int]] = field(default_factory=dict)
    spread: dict[int, int] = field(default_factory=dict)

    @property
    def max_spread(self) -> int:
        return max(self.spread.values(), default=0)

    @property
    def places_needed(self) -> int:
        return sum(len(v) for v in self.assignments.values()) + self.places_unfilled

    @property
    def places_unfilled(self) -> int:
        return sum(e.needed - e.assigned for e in self.unfilled.values())


def tie_break(deputy_id: int, workroom_id: int) -> int:
    """The stable tie-break of a deputy at a workroom (same on every machine and run)."""
    digest = hashlib.blake2b(f"{deputy_id}:{workroom_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _overlaps(intervals: list[tuple[dt.datetime, dt.datetime]], start, end) -> bool:
    return any(s < end and start < e for s, e in intervals)


def assign_deputies(
    slots: Iterable[Slot],
    candidates: Iterable[Candidate],
    commitments: Iterable[Commitment] = (),
) -> RosterResult:
    """Fill the slots with candidates; see the module docstring for the rules.

    Raises ValueError for two slots with one key or two candidates with one deputy id.
    """
    slot_list = list(slots)
    if len({s.key for s in slot_list}) != len(slot_list):
        raise ValueError("slot keys must be unique")
    by_id: dict[int, Candidate] = {}
    for candidate in candidates:
        if candidate.deputy_id in by_id:
            raise ValueError(f"deputy {candidate.deputy_id} given twice")
        by_id[candidate.deputy_id] = candidate

    ranked_ids = sorted(by_id)
    pool: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for deputy_id in ranked_ids:
        for workroom_id in by_id[deputy_id].workroom_ids:
            pool[workroom_id].append((deputy_id, tie_break(deputy_id, workroom_id)))

    served = {d: c.served_12m for d, c in by_id.items()}
    last = {d: c.last_served.toordinal() if c.last_served else 0 for d, c in by_id.items()}
    caps = {d: c.monthly_cap for d, c in by_id.items()}
    absences = {
        d: tuple(sorted((a.toordinal(), b.toordinal()) for a, b in c.unavailable))
        for d, c in by_id.items()
        if c.unavailable
    }
    month_load: dict[tuple[int, int, int], int] = defaultdict(int)
    busy: dict[tuple[int, dt.date], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for held in commitments:
        if held.deputy_id in by_id:
            month_load[(held.deputy_id, held.day.year, held.day.month)] += 1
            busy[(held.deputy_id, held.day)].append((held.start, held.end))

    result = RosterResult()
    eligible_somewhere: dict[int, set[int]] = defaultdict(set)
    picked_here: dict[tuple[int, int], int] = defaultdict(int)
    order = sorted(slot_list, key=lambda s: (s.start, s.workroom_id, s.end, str(s.key)))
    for slot in order:
        day, ordinal = slot.day, slot.day.toordinal()
        members = pool.get(slot.workroom_id, ())
        counts = dict.fromkeys(REASONS, 0)
        eligible: list[tuple[int, int, int, int]] = []
        for deputy_id, tie in members:
            periods = absences.get(deputy_id)
            if periods and any(a <= ordinal <= b for a, b in periods):
                counts["unavailable"] += 1
                continue
            cap = caps[deputy_id]
            if cap is not None and month_load[(deputy_id, day.year, day.month)] >= cap:
                counts["at_cap"] += 1
                continue
            intervals = busy.get((deputy_id, day))
            if intervals and _overlaps(intervals, slot.start, slot.end):
                counts["busy_elsewhere"] += 1
                continue
            eligible.append((served[deputy_id], last[deputy_id], tie, deputy_id))
        eligible.sort()
        chosen = [deputy_id for *_, deputy_id in eligible[: max(slot.needed, 0)]]
        for deputy_id in chosen:
            served[deputy_id] += 1
            last[deputy_id] = ordinal
            month_load[(deputy_id, day.year, day.month)] += 1
            busy[(deputy_id, day)].append((slot.start, slot.end))
            picked_here[(slot.workroom_id, deputy_id)] += 1
        seen = eligible_somewhere[slot.workroom_id]
        seen.update(deputy_id for *_, deputy_id in eligible)
        result.assignments[slot.key] = chosen
        if len(chosen) < slot.needed:
            result.unfilled[slot.key] = Explanation(
                needed=slot.needed, assigned=len(chosen), attached=len(members), **counts
            )

    for workroom_id, deputies in sorted(eligible_somewhere.items()):
        days = {d: picked_here[(workroom_id, d)] for d in sorted(deputies)}
        result.days[workroom_id] = days
        result.spread[workroom_id] = max(days.values()) - min(days.values()) if days else 0
    return result


def explain(explanation: Explanation, locale: object = "zh_Hans_CN") -> str:
    """The explanation as a sentence, in Chinese for a "zh…" locale and English otherwise.

    "需要2名代表，已安排1名：5名不可用，3名已达本月上限" /
    "needs 2 deputies, 1 assigned: 5 unavailable, 3 at their monthly cap".
    """
    e = explanation
    if str(locale or "").lower().startswith("zh"):
        reasons = []
        if e.attached == 0:
            reasons.append("本工作室没有联系代表")
        if e.unavailable:
            reasons.append(f"{e.unavailable}名不可用")
        if e.at_cap:
            reasons.append(f"{e.at_cap}名已达本月上限")
        if e.busy_elsewhere:
            reasons.append(f"{e.busy_elsewhere}名同一时间另有接待")
        if 0 < e.attached < e.needed:
            reasons.append(f"本工作室仅有{e.attached}名联系代表")
        text = f"需要{e.needed}名代表，已安排{e.assigned}名"
        return f"{text}：{'，'.join(reasons)}" if reasons else text

    def deputies(n: int) -> str:
        return f"{n} deputy" if n == 1 else f"{n} deputies"

    reasons = []
    if e.attached == 0:
        reasons.append("no deputy is attached to this workroom")
    if e.unavailable:
        reasons.append(f"{e.unavailable} unavailable")
    if e.at_cap:
        reasons.append(f"{e.at_cap} at their monthly cap")
    if e.busy_elsewhere:
        reasons.append(f"{e.busy_elsewhere} busy elsewhere at that time")
    if 0 < e.attached < e.needed:
        reasons.append(f"only {deputies(e.attached)} attached")
    text = f"needs {deputies(e.needed)}, {e.assigned} assigned"
    return f"{text}: {', '.join(reasons)}" if reasons else text
