"""Concurrent check-ins: unique ticket numbers, no lost check-in, no 500 — threads
against SQLite, processes against PostgreSQL — and one visit per idempotency key."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import POSTGRES_URL, base_config

# Wednesday 4 March 2026 at 10:00 in Shanghai: liaison hours on a working day.
OPEN = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
URL = "/api/v1/workrooms/busy-room/checkins"
BODY = {"category": "environment-noise", "consent": True}


@pytest.fixture
def unlimited(app_config, request):
    app_config["CHECKIN_RATE_LIMIT"] = "100000 per minute"
    return request.getfixturevalue("app")


@pytest.fixture
def busy_room(unlimited, make_workroom):
    return make_workroom(slug="busy-room", liaison_hours="09:00-12:00,14:30-17:30")


def stored_tickets(db) -> list[tuple[int, str]]:
    from workroom.visits.models import Visit

    rows = db.session.execute(
        sa.select(Visit.ticket_number, Visit.idempotency_key).order_by(Visit.ticket_number)
    ).all()
    return [tuple(row) for row in rows]


def test_threads_get_unique_tickets(unlimited, busy_room, db):
    threads, per_thread = 8, 10
    start = threading.Barrier(threads)

    def run(worker: int) -> list[tuple[int, int | None, str]]:
        client = unlimited.test_client()
        start.wait()
        results = []
        for i in range(per_thread):
            key = f"t{worker}-{i}"
            response = client.post(
                URL, json={**BODY, "name": key}, headers={"Idempotency-Key": key}
            )
            results.append(
                (response.status_code, (response.get_json() or {}).get("ticket_number"), key)
            )
        return results

    db.session.commit()
    with time_machine.travel(OPEN, tick=False), ThreadPoolExecutor(threads) as pool:
        results = [r for chunk in pool.map(run, range(threads)) for r in chunk]

    assert Counter(status for status, _, _ in results) == {201: threads * per_thread}
    numbers = sorted(number for _, number, _ in results)
    assert numbers == list(range(1, threads * per_thread + 1))
    stored = stored_tickets(db)
    assert len(stored) == threads * per_thread
    assert sorted(key for _, key in stored) == sorted(key for _, _, key in results)


def test_the_same_key_sent_at_once_stores_one_visit(unlimited, busy_room, db):
    threads = 8
    start = threading.Barrier(threads)

    def run(_worker: int) -> tuple[int, dict]:
        client = unlimited.test_client()
        start.wait()
        response = client.post(URL, json=BODY, headers={"Idempotency-Key": "the-one-key"})
        return response.status_code, response.get_json()

    db.session.commit()
    with time_machine.travel(OPEN, tick=False), ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(run, range(threads)))

    assert sorted(status for status, _ in results) == [200] * (threads - 1) + [201]
    assert len({answer["receipt"] for _, answer in results}) == 1
    assert stored_tickets(db) == [(1, "the-one-key")]


def _check_in_from_a_process(args: tuple[str, str, int, int]) -> list[tuple[int, int | None]]:
    """Run in a child process: its own app, engine and connections."""
    database_url, instance, worker, count = args
    from pathlib import Path

    from workroom import create_app

    config = base_config(Path(instance), database_url)
    config["CHECKIN_RATE_LIMIT"] = "100000 per minute"
    app = create_app(config)
    client = app.test_client()
    results = []
    with time_machine.travel(OPEN, tick=False):
        for i in range(count):
            key = f"p{worker}-{i}"
            response = client.post(
                URL, json={**BODY, "name": key}, headers={"Idempotency-Key": key}
            )
            results.append((response.status_code, (response.get_json() or {}).get("ticket_number")))
    return results


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="needs WORKROOM_TEST_POSTGRES_URL")
def test_processes_on_postgresql_get_unique_tickets(busy_room, db, tmp_path):
    processes, per_process = 6, 15
    db.session.commit()
    context = multiprocessing.get_context("spawn")
    jobs = [(POSTGRES_URL, str(tmp_path / f"p{n}"), n, per_process) for n in range(processes)]
    with context.Pool(processes) as pool:
        results = [r for chunk in pool.map(_check_in_from_a_process, jobs) for r in chunk]

    assert Counter(status for status, _ in results) == {201: processes * per_process}
    numbers = sorted(number for _, number in results)
    assert numbers == list(range(1, processes * per_process + 1))
    assert len(stored_tickets(db)) == processes * per_process
