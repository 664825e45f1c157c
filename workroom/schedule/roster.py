"""The roster solver: who holds which reception day. Pure and deterministic.

``assign_deputies`` walks the slots in time order (start, then workroom id, end, key) and
gives each one the best-ranked eligible deputies attached to its workroom. A deputy is
eligible unless :func:`why_not` gives a reason: unavailable that day, at their monthly
cap (counting what they already hold that month) or busy at an overlapping time
anywhere (the commitments given and the earlier picks of this run). The options offered
for a day and the check before a change by hand ask the same function.

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
from operator import itemgetter

from flask_babel import force_locale, ngettext, pgettext
from flask_babel import gettext as _

from workroom.i18n import normalize_locale

# Why a deputy may not hold a slot, in the order :func:`why_not` asks. An explanation
# counts the attached deputies under the last three.
NOT_ATTACHED = "not_attached"
UNAVAILABLE = "unavailable"
AT_CAP = "at_cap"
BUSY_ELSEWHERE = "busy_elsewhere"
REASONS = (UNAVAILABLE, AT_CAP, BUSY_ELSEWHERE)


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
    towards the cap of its month. ``ref`` names it for the caller (a reception day id)."""

    deputy_id: int
    day: dt.date
    start: dt.datetime
    end: dt.datetime
    ref: Hashable = None


class Duties:
    """What each deputy holds: how many reception days in each month (they count towards
    the cap) and their time windows on each day (busy then). Built from commitments; the
    solver adds its picks as it goes."""

    __slots__ = ("_per_month", "_windows")

    def __init__(self, commitments: Iterable[Commitment] = ()) -> None:
        self._per_month: dict[tuple[int, int, int], int] = defaultdict(int)
        self._windows: dict[
            tuple[int, dt.date], list[tuple[dt.datetime, dt.datetime, Hashable]]
        ] = defaultdict(list)
        for held in commitments:
            self.add(held.deputy_id, held.day, held.start, held.end, held.ref)

    def add(
        self,
        deputy_id: int,
        day: dt.date,
        start: dt.datetime,
        end: dt.datetime,
        ref: Hashable = None,
    ) -> None:
        self._per_month[(deputy_id, day.year, day.month)] += 1
        self._windows[(deputy_id, day)].append((start, end, ref))

    def in_month(self, deputy_id: int, day: dt.date) -> int:
        """How many reception days the deputy holds in the month of ``day``."""
        return self._per_month.get((deputy_id, day.year, day.month), 0)

    def clash(
        self, deputy_id: int, day: dt.date, start: dt.datetime, end: dt.datetime
    ) -> Commitment | None:
        """The earliest reception of the deputy overlapping [start, end) on ``day``."""
        hits = [w for w in self._windows.get((deputy_id, day), ()) if w[0] < end and start < w[1]]
        if not hits:
            return None
        first, last, ref = min(hits, key=lambda w: w[0])
        return Commitment(deputy_id, day, first, last, ref)


def absence_on(candidate: Candidate, day: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first of the candidate's unavailable periods that covers ``day``, or None."""
    for first, last in candidate.unavailable:
        if first <= day <= last:
            return first, last
    return None


def why_not(
    candidate: Candidate, slot: Slot, duties: Duties, *, over_cap: bool = False
) -> str | None:
    """Why the deputy may not hold the slot, or None when they may.

    The first that applies: NOT_ATTACHED (not attached to the slot's workroom),
    UNAVAILABLE (an unavailable period covers the day), AT_CAP (already holds
    ``monthly_cap`` reception days in the day's month), BUSY_ELSEWHERE (holds a reception
    at an overlapping time that day). ``over_cap=True`` leaves the cap out: a change by
    hand may go over it, with a warning; the solver never does.
    """
    # The solver asks this for every attached deputy of every slot, so the lookups in
    # Duties are spelled out here rather than called as methods.
    day, deputy_id = slot.day, candidate.deputy_id
    if slot.workroom_id not in candidate.workroom_ids:
        return NOT_ATTACHED
    if candidate.unavailable and absence_on(candidate, day) is not None:
        return UNAVAILABLE
    cap = candidate.monthly_cap
    if (
        cap is not None
        and not over_cap
        and duties._per_month.get((deputy_id, day.year, day.month), 0) >= cap
    ):
        return AT_CAP
    windows = duties._windows.get((deputy_id, day))
    if windows:
        start, end = slot.start, slot.end
        if any(s < end and start < e for s, e, _ in windows):
            return BUSY_ELSEWHERE
    return None


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


# The deputy id of an entry of the solver's ranking (served, last served, tie, deputy id).
_deputy_of = itemgetter(3)


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

    pool: dict[int, list[tuple[Candidate, int]]] = defaultdict(list)
    for deputy_id in sorted(by_id):
        candidate = by_id[deputy_id]
        for workroom_id in candidate.workroom_ids:
            pool[workroom_id].append((candidate, tie_break(deputy_id, workroom_id)))

    served = {d: c.served_12m for d, c in by_id.items()}
    last = {d: c.last_served.toordinal() if c.last_served else 0 for d, c in by_id.items()}
    duties = Duties(held for held in commitments if held.deputy_id in by_id)

    result = RosterResult()
    eligible_somewhere: dict[int, set[int]] = defaultdict(set)
    picked_here: dict[tuple[int, int], int] = defaultdict(int)
    order = sorted(slot_list, key=lambda s: (s.start, s.workroom_id, s.end, str(s.key)))
    for slot in order:
        day, ordinal = slot.day, slot.day.toordinal()
        members = pool.get(slot.workroom_id, ())
        counts = dict.fromkeys(REASONS, 0)
        eligible: list[tuple[int, int, int, int]] = []
        for candidate, tie in members:
            reason = why_not(candidate, slot, duties)
            if reason is not None:
                counts[reason] += 1
                continue
            deputy_id = candidate.deputy_id
            eligible.append((served[deputy_id], last[deputy_id], tie, deputy_id))
        eligible.sort()
        chosen = list(map(_deputy_of, eligible[: max(slot.needed, 0)]))
        for deputy_id in chosen:
            served[deputy_id] += 1
            last[deputy_id] = ordinal
            duties.add(deputy_id, day, slot.start, slot.end, slot.key)
            picked_here[(slot.workroom_id, deputy_id)] += 1
        eligible_somewhere[slot.workroom_id].update(map(_deputy_of, eligible))
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


def explain(explanation: Explanation, locale: object = None) -> str:
    """The explanation as a sentence in ``locale`` ("zh_Hans_CN", "zh", "en"; the
    reader's language when None):

    "需要2名代表，已安排1名：5名不可用，3名已达本月上限" /
    "needs 2 deputies, 1 assigned: 5 unavailable, 3 at their monthly cap".

    Outside an app context there are no catalogs and the sentence is in English.
    """
    if locale is None:
        return _explain(explanation)
    with force_locale(normalize_locale(str(locale)) or str(locale)):
        return _explain(explanation)


def _explain(e: Explanation) -> str:
    reasons = []
    if e.attached == 0:
        reasons.append(_("no deputy is attached to this workroom"))
    if e.unavailable:
        reasons.append(_("%(num)s unavailable", num=e.unavailable))
    if e.at_cap:
        reasons.append(_("%(num)s at their monthly cap", num=e.at_cap))
    if e.busy_elsewhere:
        reasons.append(_("%(num)s busy elsewhere at that time", num=e.busy_elsewhere))
    if 0 < e.attached < e.needed:
        reasons.append(
            ngettext("only %(num)s deputy attached", "only %(num)s deputies attached", e.attached)
        )
    text = ngettext(
        "needs %(num)s deputy, %(assigned)s assigned",
        "needs %(num)s deputies, %(assigned)s assigned",
        e.needed,
        assigned=e.assigned,
    )
    if not reasons:
        return text
    return _(
        "%(summary)s: %(reasons)s",
        summary=text,
        reasons=pgettext("list separator", ", ").join(reasons),
    )
