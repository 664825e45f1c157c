"""How fast suggestions are routed, against a plain dictionary lookup.

Builds a 4-level area tree (1 city, 10 districts, 100 streets, 1,000 communities) and
200 routing rules over the shared category taxonomy in a fresh SQLite database, loads
a ``RoutingTable`` once, and routes 100,000 suggestions with random categories and
areas. Prints the throughput of the table (memoised, as the app uses it, and with
every decision computed afresh), of ``route()`` against the database for a sample,
and the ratio to a plain dict lookup of precomputed answers measured in the same run.
Checks on a sample that the table and ``route()`` agree. Not a test: run it by hand.

    .venv/bin/python benchmarks/routing.py [--suggestions 100000] [--rules 200] [--seed 2026]
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_migrate import upgrade

from workroom import create_app
from workroom.categories.models import Category
from workroom.db import db
from workroom.people.models import Agency
from workroom.places.models import Area
from workroom.suggestions.models import RoutingRule, routing_rule_co_agency
from workroom.suggestions.routing import RoutingTable, route


def build_tree(branching: int = 10) -> dict[str, list[Area]]:
    levels: dict[str, list[Area]] = {"city": [Area(name="湘潭市", level="city")]}
    for parent_level, level in (
        ("city", "district"),
        ("district", "street"),
        ("street", "community"),
    ):
        levels[level] = [
            Area(name=f"{parent.name}-{n}", level=level, parent=parent)
            for parent in levels[parent_level]
            for n in range(branching)
        ]
    db.session.add_all(a for nodes in levels.values() for a in nodes)
    db.session.flush()
    return levels


def build_rules(count: int, levels: dict[str, list[Area]], rng: random.Random) -> int:
    """``count`` rules, written in bulk: specific pairs, broad fallbacks, priorities,
    some inactive and some whose lead agency is inactive."""
    agencies = [Agency(code=f"a{n}", name=f"承办单位{n}", active=n % 25 != 0) for n in range(60)]
    db.session.add_all(agencies)
    db.session.flush()
    categories = db.session.scalars(sa.select(Category)).all()
    weights = {"city": 1, "district": 8, "street": 20, "community": 10}
    taken: set[tuple[int, int, int]] = set()
    rows, co_rows = [], []
    while len(rows) < count:
        level = rng.choices(list(weights), weights=list(weights.values()))[0]
        area = rng.choice(levels[level]) if level != "city" else levels["city"][0]
        category = rng.choice(categories)
        priority = rng.choice([0, 0, 0, 1, 5])
        key = (category.id, area.id, priority)
        if key in taken:
            continue
        taken.add(key)
        rule_id = len(rows) + 1
        lead = rng.choice(agencies)
        rows.append(
            {
                "id": rule_id,
                "category_id": category.id,
                "area_id": area.id,
                "lead_agency_id": lead.id,
                "deadline_policy": rng.choice(["citizen", "citizen", "deputy"]),
                "priority": priority,
                "active": rng.random() > 0.05,
            }
        )
        for co in rng.sample(agencies, rng.choice([0, 0, 1, 2])):
            if co.id != lead.id:
                co_rows.append({"rule_id": rule_id, "agency_id": co.id})
    db.session.execute(sa.insert(RoutingRule), rows)
    if co_rows:
        db.session.execute(sa.insert(routing_rule_co_agency), co_rows)
    db.session.commit()
    return len(rows)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        result = function()
        return time.perf_counter() - started, result
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suggestions", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="workroom-routing-bench-") as folder:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "SECURITY_PASSWORD_SALT": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.sqlite'}",
                "INSTANCE_PATH": folder,
            }
        )
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            levels = build_tree()
            rules = build_rules(args.rules, levels, rng)
            areas = [a.id for nodes in levels.values() for a in nodes]
            categories = db.session.scalars(sa.select(Category.id)).all()
            # Most suggestions come from communities and streets.
            leaves = [a.id for a in levels["community"]] * 3 + [a.id for a in levels["street"]]
            suggestions = [
                (rng.choice(categories), rng.choice(leaves if rng.random() < 0.9 else areas))
                for _ in range(args.suggestions)
            ]
            n = len(suggestions)

            load_time, table = timed(RoutingTable.load)

            def with_table() -> int:
                routed = 0
                for category_id, area_id in suggestions:
                    routed += table.route(category_id, area_id).rule is not None
                return routed

            def fresh() -> int:
                routed = 0
                for category_id, area_id in suggestions:
                    routed += table.resolve(category_id, area_id).rule is not None
                return routed

            table_time, routed = timed(with_table)
            fresh_time, routed_fresh = timed(fresh)
            assert routed == routed_fresh

            answers = {pair: table.route(*pair).lead_agency for pair in set(suggestions)}

            def baseline() -> int:
                routed = 0
                for pair in suggestions:
                    routed += answers[pair] is not None
                return routed

            baseline_time, routed_baseline = timed(baseline)
            assert routed == routed_baseline

            sample = suggestions[:500]
            by_id = {
                "categories": {c.id: c for c in db.session.scalars(sa.select(Category))},
                "areas": {a.id: a for a in db.session.scalars(sa.select(Area))},
            }

            def against_database() -> list[Any]:
                return [route(by_id["categories"][c], by_id["areas"][a]).rule for c, a in sample]

            db_time, db_rules = timed(against_database)
            mismatches = sum(
                got is not table.route(c, a).rule
                for got, (c, a) in zip(db_rules, sample, strict=True)
            )

    print(f"areas: {len(areas):,} on 4 levels; rules: {rules}; categories: {len(categories)}")
    print(f"suggestions routed: {n:,} ({routed:,} by a rule, {n - routed:,} to triage)")
    print(f"distinct category × area pairs: {len(answers):,}")
    print(f"RoutingTable.load: {load_time * 1000:.1f} ms")
    print(
        f"RoutingTable.route (memoised): {table_time:.3f} s, {n / table_time:,.0f} suggestions/s, "
        f"{table_time / baseline_time:.1f}× the dict lookup"
    )
    print(
        f"RoutingTable.resolve (no memo): {fresh_time:.3f} s, {n / fresh_time:,.0f} suggestions/s, "
        f"{fresh_time / baseline_time:.1f}× the dict lookup"
    )
    print(f"plain dict lookup baseline: {baseline_time:.4f} s, {n / baseline_time:,.0f} lookups/s")
    print(
        f"route() against the database: {len(sample) / db_time:,.0f} suggestions/s "
        f"(sample of {len(sample)}), {mismatches} disagreements with the table"
    )


if __name__ == "__main__":
    main()
