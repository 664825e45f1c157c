"""How long a year of rosters takes for many workrooms, and how it grows.

Builds 1,000 workrooms and 10,000 deputies in memory (times ``--scale``), expands a
year of reception rules on the 2026 working-day calendar, and fills every reception
day with the solver. Prints the CPU time (one core), the fairness spread, the time ratio when the input
doubles (near 2× means linear), and the ratio to a plain round-robin over the same
slots measured in the same run. Not a test: run it by hand.

    .venv/bin/python benchmarks/schedule.py [--scale 1.0] [--seed 2026]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass

from workroom.schedule.roster import Candidate, RosterResult, Slot, assign_deputies
from workroom.schedule.rules import build_rrule, occurrences

YEAR_START, YEAR_END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
DAYS_OFF_2026 = [
    ("2026-01-01", 3),
    ("2026-02-15", 9),
    ("2026-04-04", 3),
    ("2026-05-01", 5),
    ("2026-06-19", 3),
    ("2026-09-25", 3),
    ("2026-10-01", 7),
]
MAKEUP_2026 = {"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}
HOLIDAYS = {
    dt.date.fromisoformat(first) + dt.timedelta(days=i)
    for first, n in DAYS_OFF_2026
    for i in range(n)
}
MAKEUP = {dt.date.fromisoformat(d) for d in MAKEUP_2026}


def is_working_day(day: dt.date) -> bool:
    return day in MAKEUP or (day.weekday() < 5 and day not in HOLIDAYS)


@dataclass
class Rule:
    workroom_id: int
    rrule: str
    starts: dt.time
    ends: dt.time
    needed: int
    on_non_working_day: str
    valid_from: dt.date = YEAR_START
    valid_until: dt.date | None = None


def build(
    workrooms: int, deputies: int, seed: int, plain: bool = False
) -> tuple[list[Rule], list[Candidate]]:
    """Rules and deputies; ``plain`` drops history, caps, absences and second workrooms."""
    rng = random.Random(seed)
    rules = []
    for w in range(1, workrooms + 1):
        if rng.random() < 0.85:
            rrule = build_rrule("weekly", [rng.randrange(5)])
        else:
            rrule = build_rrule("monthly_weekday", [rng.randrange(5)], [1, 2, 3, 4])
        morning = rng.random() < 0.6
        starts, ends = (dt.time(9), dt.time(11, 30)) if morning else (dt.time(14, 30), dt.time(17))
        policy = rng.choice(["skip", "next_working_day"])
        rules.append(Rule(w, rrule, starts, ends, rng.choice([1, 2, 2, 3]), policy))
    candidates = []
    for d in range(1, deputies + 1):
        rooms = {(d - 1) % workrooms + 1}
        if rng.random() < 0.2 and not plain:
            rooms.add(rng.randrange(1, workrooms + 1))
        absences = ()
        if rng.random() < 0.1:
            first = YEAR_START + dt.timedelta(days=rng.randrange(365))
            absences = ((first, first + dt.timedelta(days=rng.randrange(7, 29))),)
        last = None
        if rng.random() < 0.7:
            last = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(365))
        if plain:
            candidates.append(Candidate(deputy_id=d, workroom_ids=frozenset(rooms)))
            continue
        candidates.append(
            Candidate(
                deputy_id=d,
                workroom_ids=frozenset(rooms),
                monthly_cap=rng.choice([None, None, None, 1, 2]),
                unavailable=absences,
                served_12m=rng.randrange(0, 8) if last else 0,
                last_served=last,
            )
        )
    return rules, candidates


def expand(rules: list[Rule]) -> list[Slot]:
    slots = []
    for rule in rules:
        for day in occurrences(rule, YEAR_START, YEAR_END, is_working_day):
            start = dt.datetime.combine(day, rule.starts)
            end = dt.datetime.combine(day, rule.ends)
            slots.append(
                Slot((rule.workroom_id, day), rule.workroom_id, day, start, end, rule.needed)
            )
    return slots


def round_robin(slots: list[Slot], candidates: list[Candidate]) -> dict:
    """The floor to compare with: each workroom cycles through its deputies, no checks."""
    members: dict[int, list[int]] = {}
    for c in candidates:
        for w in c.workroom_ids:
            members.setdefault(w, []).append(c.deputy_id)
    turn: Counter[int] = Counter()
    out = {}
    for slot in sorted(slots, key=lambda s: (s.start, s.workroom_id)):
        pool = members.get(slot.workroom_id, [])
        n = min(slot.needed, len(pool))
        first = turn[slot.workroom_id]
        out[slot.key] = [pool[(first + i) % len(pool)] for i in range(n)]
        turn[slot.workroom_id] = first + n
    return out


def timed(fn, *args):
    """The value and the CPU seconds it took (one thread: the time on one core, whatever
    else the machine is doing)."""
    gc.collect()
    # The cyclic collector rescans every live object as they pile up, which would bill
    # the input's size, not the algorithm, to whichever run comes last.
    gc.disable()
    try:
        started = time.process_time()
        value = fn(*args)
        return value, time.process_time() - started
    finally:
        gc.enable()


def run(scale: float, seed: int, plain: bool = False) -> dict:
    workrooms, deputies = round(1000 * scale), round(10000 * scale)
    rules, candidates = build(workrooms, deputies, seed, plain)
    slots, t_expand = timed(expand, rules)
    result, t_solve = timed(assign_deputies, slots, candidates)
    _, t_baseline = timed(round_robin, slots, candidates)
    return {
        "candidates": candidates,
        "workrooms": workrooms,
        "deputies": deputies,
        "slots": len(slots),
        "places": sum(s.needed for s in slots),
        "expand": t_expand,
        "solve": t_solve,
        "total": t_expand + t_solve,
        "baseline": t_baseline,
        "result": result,
    }


def load_spread(candidates: list[Candidate], result: RosterResult) -> str:
    """History plus this year's days, most − fewest per workroom, among the deputies whose
    load nothing else bends (no cap, no absence, one workroom)."""
    run_days: Counter[int] = Counter()
    for deputies in result.assignments.values():
        run_days.update(deputies)
    loads: dict[int, list[int]] = {}
    for c in candidates:
        if c.monthly_cap is None and not c.unavailable and len(c.workroom_ids) == 1:
            (room,) = c.workroom_ids
            loads.setdefault(room, []).append(c.served_12m + run_days[c.deputy_id])
    spreads = [max(v) - min(v) for v in loads.values() if len(v) > 1]
    return (
        "load (12 months of history + this year) per workroom among deputies without cap, "
        f"absence or second workroom: max spread {max(spreads, default=0)}"
    )


def describe(label: str, r: dict) -> None:
    result: RosterResult = r["result"]
    spreads = list(result.spread.values())
    print(
        f"{label}: {r['workrooms']:,} workrooms, {r['deputies']:,} deputies, "
        f"{r['slots']:,} reception days, {r['places']:,} places"
    )
    print(
        f"  CPU time {r['total']:.2f} s (rules {r['expand']:.2f} s + solver {r['solve']:.2f} s); "
        f"round-robin baseline {r['baseline']:.3f} s; solver / baseline "
        f"{r['solve'] / r['baseline']:.1f}×"
    )
    print(
        f"  fairness spread per workroom (days, most − fewest): max {max(spreads)}, "
        f"median {statistics.median(spreads)}, "
        f"≤1 in {sum(s <= 1 for s in spreads) / len(spreads):.0%} of workrooms"
    )
    print(f"  {load_spread(r['candidates'], result)}")
    print(
        f"  unfilled places {result.places_unfilled:,} in {len(result.unfilled):,} reception days"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    single = run(args.scale, args.seed)
    describe(f"scale {args.scale:g}", single)
    double = run(args.scale * 2, args.seed)
    describe(f"scale {args.scale * 2:g}", double)
    print(
        f"doubling the input: time × {double['total'] / single['total']:.2f} "
        f"(solver × {double['solve'] / single['solve']:.2f}, "
        f"baseline × {double['baseline'] / single['baseline']:.2f}); linear is 2×, quadratic 4×"
    )
    plain = run(args.scale, args.seed, plain=True)
    print(
        "fairness bound, same rules without history, caps, absences or second workrooms: "
        f"max spread {plain['result'].max_spread} (promised ≤ 1), "
        f"solver {plain['solve']:.2f} s"
    )
    verdict = "within" if single["total"] < 10 else "OVER"
    print(f"target: under 10 s at scale 1 — {verdict} ({single['total']:.2f} s)")


if __name__ == "__main__":
    main()
