"""Staff and agency suggestion lists over a large table, against a minimal query.

Builds a fresh, migrated SQLite instance with the demo places, people and accounts, then
bulk-inserts ``--suggestions`` suggestions (default 200,000) spread over categories,
areas, workrooms, lead agencies, statuses, deadlines and creation dates, with lead
(and some co-handling) agency rows and a few citizens for some. Signed in through the
real login form as admin, liaison and agency1, it times ``GET /staff/suggestions``
(first page, a middle page, each filter) and ``GET /agency`` with the test client and
counts the SQL statements of each request. In the same run it times a plain
``SELECT id, title FROM suggestion ORDER BY id DESC LIMIT 25`` through the same engine.
Prints median and p95 per page, statements per request and the ratio to the baseline
(target: every page under 200 ms, with the same number of statements on every page).
Not a test: run it by hand.

    .venv/bin/python benchmarks/suggestion_lists.py [--suggestions 200000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workroom import create_app  # noqa: E402
from workroom.categories.models import Category  # noqa: E402
from workroom.db import db, set_write_intent, utcnow  # noqa: E402
from workroom.demo import seed_accounts, seed_people, seed_places  # noqa: E402
from workroom.people.models import Agency  # noqa: E402
from workroom.places.models import Area, Workroom  # noqa: E402
from workroom.suggestions.models import (  # noqa: E402
    Suggestion,
    SuggestionAgency,
    SuggestionCitizen,
)

PASSWORD = "bench-password-2026"
TARGET_MS = 200.0
BATCH = 10_000
# Share of each status among the suggestions.
STATUS_WEIGHTS = {
    "triage": 4,
    "assigned": 10,
    "accepted": 22,
    "replied": 20,
    "closed": 42,
    "merged": 2,
}


def make_app(folder: str) -> Any:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SECURITY_PASSWORD_SALT": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.sqlite'}",
            "INSTANCE_PATH": folder,
            "PUBLIC_URL": "http://workroom.test",
            "RATELIMIT_STORAGE_URI": "memory://",
            "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {
                "argon2__rounds": 1,
                "argon2__memory_cost": 1024,
                "argon2__parallelism": 1,
            },
        }
    )


# Building the data


def seed_base() -> None:
    created: dict[str, int] = dict.fromkeys(
        ("areas", "workrooms", "groups", "agencies", "deputies", "accounts"), 0
    )
    workrooms = seed_places(created)
    seed_people(workrooms, created)
    seed_accounts(PASSWORD, created)
    db.session.commit()


def suggestion_rows(
    count: int, now: dt.datetime, rng: random.Random, agencies: list[int]
) -> Iterator[dict]:
    categories = list(db.session.scalars(sa.select(Category.id).where(Category.active)))
    workrooms = {w.area_id: w.id for w in db.session.scalars(sa.select(Workroom))}
    streets = list(workrooms)
    communities = {
        street: list(db.session.scalars(sa.select(Area.id).where(Area.parent_id == street)))
        for street in streets
    }
    # The inserts below take the write lock on their own connection.
    db.session.commit()
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    today = now.date()
    span = 730 * 86400
    for i in range(1, count + 1):
        # Oldest first, so ids grow with the creation time as in real use.
        created = now - dt.timedelta(seconds=span * (count - i) / count + rng.random())
        status = rng.choices(statuses, weights)[0]
        street = rng.choice(streets)
        area = rng.choice(communities[street] or [street])
        routed = status != "triage"
        assigned = created + dt.timedelta(hours=rng.randint(1, 72))
        # Open ones cluster around today so every deadline state has rows.
        if status in ("assigned", "accepted"):
            reply_due = today + dt.timedelta(days=rng.randint(-20, 25))
        else:
            reply_due = (assigned + dt.timedelta(days=21)).date()
        accept_due = reply_due - dt.timedelta(days=19)
        yield {
            "id": i,
            "tracking_code": f"JY{i:08d}",
            "title": f"建议 {i}：小区道路积水与路灯维修",
            "content": "居民反映小区道路积水严重，路灯长期不亮，希望尽快维修。",
            "category_id": rng.choice(categories),
            "area_id": area,
            "workroom_id": workrooms[street] if rng.random() < 0.9 else None,
            "source": rng.choice(("visit", "liaison", "deputy", "other")),
            "confidential": rng.random() < 0.1,
            "status": status,
            "lead_agency_id": rng.choice(agencies) if routed else None,
            "routing_rule_id": None,
            "routing_reason": "",
            "group_id": None,
            "deadline_policy": "citizen",
            "accept_due": accept_due if routed else None,
            "reply_due": reply_due if routed else None,
            "assigned_at": assigned if routed else None,
            "accepted_at": assigned if status not in ("triage", "assigned") else None,
            "replied_at": assigned if status in ("replied", "closed") else None,
            "closed_at": assigned if status == "closed" else None,
            "reply_text": "",
            "reply_class": None,
            "extensions_used": 0,
            "rehandle_count": 0,
            "merged_into_id": max(1, i - 1) if status == "merged" else None,
            "deputy_id": None,
            "raised_by_id": None,
            "created_at": created,
            "updated_at": created,
        }


def bulk_insert(count: int, now: dt.datetime) -> float:
    """Insert ``count`` suggestions with their agency and citizen rows; answers seconds."""
    rng = random.Random(20261128)
    agencies = list(db.session.scalars(sa.select(Agency.id)))
    started = time.perf_counter()
    suggestions: list[dict] = []
    links: list[dict] = []
    citizens: list[dict] = []

    def flush() -> None:
        with db.engine.begin() as conn:
            if suggestions:
                conn.execute(Suggestion.__table__.insert(), suggestions)
            if links:
                conn.execute(SuggestionAgency.__table__.insert(), links)
            if citizens:
                conn.execute(SuggestionCitizen.__table__.insert(), citizens)
        suggestions.clear()
        links.clear()
        citizens.clear()

    for row in suggestion_rows(count, now, rng, agencies):
        suggestions.append(row)
        lead = row["lead_agency_id"]
        if lead:
            links.append(
                {"suggestion_id": row["id"], "agency_id": lead, "role": "lead", "opinion": ""}
            )
            if rng.random() < 0.15:
                co = rng.choice([a for a in agencies if a != lead])
                links.append(
                    {"suggestion_id": row["id"], "agency_id": co, "role": "co", "opinion": ""}
                )
        if rng.random() < 0.6:
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                citizens.append(
                    {
                        "suggestion_id": row["id"],
                        "name": "测试居民",
                        "phone": f"1380013{rng.randint(0, 9999):04d}",
                        "follow_up_note": "",
                    }
                )
        if len(suggestions) >= BATCH:
            flush()
    flush()
    with db.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    return time.perf_counter() - started


# Measuring


class StatementCounter:
    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        self.statements: list[tuple[str, Any]] = []
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        self.count += 1
        self.statements.append((statement, parameters))

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


def login(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, "no CSRF token on the login page"
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": match.group(1)},
    )
    assert response.status_code == 302, f"{username} could not sign in"


def measure(
    call: Callable[[], Any], counter: StatementCounter, repeat: int
) -> tuple[float, float, int, int]:
    """Median and p95 in ms, and the min and max statements per call."""
    call()  # warm the caches (templates, calendar)
    times: list[float] = []
    counts: list[int] = []
    for _ in range(repeat):
        counter.reset()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
        counts.append(counter.count)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, min(counts), max(counts)


def get(client: Any, url: str) -> Callable[[], Any]:
    def call() -> Any:
        response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        return response

    return call


def pages(app: Any, total: int, now: dt.datetime, middle: int) -> list[tuple[str, str, str]]:
    """(label, account, url) for every page measured."""
    with app.app_context():
        ecology = db.session.scalar(sa.select(Agency.id).where(Agency.code == "yt-ecology"))
        category = db.session.scalar(
            sa.select(Category.id).where(Category.parent_id.is_(None)).order_by(Category.id)
        )
    since = (now.date() - dt.timedelta(days=120)).isoformat()
    until = (now.date() - dt.timedelta(days=90)).isoformat()
    return [
        ("staff, page 1", "admin", "/staff/suggestions"),
        ("staff, middle page", "admin", f"/staff/suggestions?page={middle}"),
        ("staff, last page", "admin", f"/staff/suggestions?page={-(-total // 25)}"),
        ("staff, status=accepted", "admin", "/staff/suggestions?status=accepted"),
        ("staff, category", "admin", f"/staff/suggestions?category={category}"),
        ("staff, agency", "admin", f"/staff/suggestions?agency={ecology}"),
        ("staff, overdue", "admin", "/staff/suggestions?deadline=overdue"),
        ("staff, due soon", "admin", "/staff/suggestions?deadline=due_soon"),
        ("staff, period", "admin", f"/staff/suggestions?since={since}&until={until}"),
        (
            "staff, overdue p.5",
            "admin",
            "/staff/suggestions?deadline=overdue&page=5",
        ),
        ("liaison, page 1", "liaison", "/staff/suggestions"),
        ("liaison, middle page", "liaison", f"/staff/suggestions?page={middle // 3}"),
        ("agency1, portal", "agency1", "/agency"),
        ("agency1, portal p.50", "agency1", "/agency?page=50"),
        ("agency1, portal overdue", "agency1", "/agency?deadline=overdue"),
        ("agency1, portal due soon", "agency1", "/agency?deadline=due_soon"),
    ]


def explain(app: Any, statements: list[tuple[str, Any]], label: str) -> None:
    """Print each statement of the last request with its time and SQLite's plan."""
    print(f"\n-- statements of {label!r}:")
    with app.app_context(), db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            started = time.perf_counter()
            raw.execute(statement, parameters).fetchall()
            ms = (time.perf_counter() - started) * 1000
            print(f"  {ms:7.1f} ms ", " ".join(statement.split())[:400])
            for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters):
                print("             ", row[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suggestions", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--show", default="", help="print the SQL of pages whose label has this")
    args = parser.parse_args()
    now = utcnow()
    with tempfile.TemporaryDirectory(prefix="bench-suggestions-") as folder:
        app = make_app(folder)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            seed_base()
            seconds = bulk_insert(args.suggestions, now)
            links = db.session.scalar(sa.select(sa.func.count()).select_from(SuggestionAgency))
            people = db.session.scalar(sa.select(sa.func.count()).select_from(SuggestionCitizen))
            print(
                f"Inserted {args.suggestions:,} suggestions, {links:,} agency rows and "
                f"{people:,} citizens in {seconds:.1f} s."
            )
            db.session.commit()
            # Read like a GET request: a plain BEGIN, no write lock.
            set_write_intent(False)
            counter = StatementCounter(db.engine)
            baseline_sql = sa.text("SELECT id, title FROM suggestion ORDER BY id DESC LIMIT 25")

            def baseline() -> Any:
                with db.engine.connect() as conn:
                    return conn.execute(baseline_sql).all()

            base = measure(baseline, counter, args.repeat)

        clients: dict[str, Any] = {}
        for account in ("admin", "liaison", "agency1"):
            clients[account] = app.test_client()
            login(clients[account], account)

        middle = args.suggestions // 25 // 2
        results = []
        for label, account, url in pages(app, args.suggestions, now, middle):
            result = measure(get(clients[account], url), counter, args.repeat)
            results.append((label, url, result))
            if args.show and args.show in label:
                explain(app, counter.statements, label)

    print(f"\n{'page':28} {'median ms':>10} {'p95 ms':>8} {'SQL':>5} {'x base':>8}  ok")
    b_median, b_p95, b_sql, _ = base
    print(f"{'baseline SELECT LIMIT 25':28} {b_median:10.2f} {b_p95:8.2f} {b_sql:5} {1:8.1f}")
    slow = 0
    counts = set()
    for label, _url, (median, p95, low, high) in results:
        ok = p95 < TARGET_MS and low == high
        slow += not ok
        counts.add(low)
        sql = f"{low}" if low == high else f"{low}-{high}"
        ratio = median / b_median if b_median else float("inf")
        print(
            f"{label:28} {median:10.2f} {p95:8.2f} {sql:>5} {ratio:8.0f}  {'yes' if ok else 'NO'}"
        )
    print(
        f"\nTarget: p95 under {TARGET_MS:.0f} ms on every page, constant statements per "
        f"page. {len(results) - slow} of {len(results)} pages meet it; statement counts "
        f"seen: {sorted(counts)}."
    )


if __name__ == "__main__":
    main()
