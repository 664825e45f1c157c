"""The job runner: one table of jobs, exactly one active runner, a heartbeat for admins."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL
from tests.test_outbox import app_config, sms_gateway, smtp_server  # noqa: F401 (fixtures)
from workroom.clock import utcnow
from workroom.jobs import JOBS, jobs_cli
from workroom.outbox.models import OutboxMessage
from workroom.outbox.queue import message_id_for, queue_email
from workroom.runner.lock import RunnerLock
from workroom.runner.models import JobHeartbeat
from workroom.runner.scheduler import (
    Job,
    RunnerInfo,
    build_scheduler,
    heartbeat,
    run_job,
    run_runner,
    start_embedded_runner,
)

NOW = dt.datetime(2026, 3, 4, 1, 0)

FAST = {
    "JOBS_LOCK_POLL_SECONDS": 0.05,
    "JOB_TRIGGERS": {
        "deliver_outbox": {"trigger": "interval", "seconds": 0.1},
        "heartbeat": {"trigger": "interval", "seconds": 0.1},
    },
}


def wait_for(condition: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def heartbeats(db) -> list[tuple[str, int, dt.datetime]]:
    """(runner, pid, beat_at) of each heartbeat row, read without keeping SQLite locked."""
    db.session.rollback()
    rows = db.session.execute(
        sa.select(JobHeartbeat.runner, JobHeartbeat.pid, JobHeartbeat.beat_at).order_by(
            JobHeartbeat.id
        )
    ).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


class Runner:
    """run_runner in a thread, as `flask jobs run` or `serve` would start it."""

    def __init__(self, app) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=run_runner, args=(app, JOBS, self.stop_event))
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def start_runner(app):
    runners: list[Runner] = []

    def start() -> Runner:
        runners.append(Runner(app))
        return runners[-1]

    yield start
    for runner in runners:
        runner.stop()


def test_the_job_table_holds_the_outbox_and_the_heartbeat(app):
    names = [job.name for job in JOBS]
    assert {"deliver_outbox", "heartbeat"} <= set(names)
    assert len(names) == len(set(names))
    scheduler = build_scheduler(app, JOBS, RunnerInfo.new())
    assert str(scheduler.timezone) == "Asia/Shanghai"
    assert {j.id for j in scheduler.get_jobs()} == set(names)

    app.config["JOB_TRIGGERS"] = {"heartbeat": None}
    assert "heartbeat" not in {
        j.id for j in build_scheduler(app, JOBS, RunnerInfo.new()).get_jobs()
    }


def test_run_job_commits_and_never_raises(app, db):
    def queue(now: dt.datetime) -> None:
        queue_email("job:ok", "li@example.cn", "提醒", "正文", now)

    def broken(now: dt.datetime) -> None:
        queue_email("job:broken", "li@example.cn", "提醒", "正文", now)
        raise RuntimeError("boom")

    assert run_job(app, Job("queue", queue, {"trigger": "interval", "seconds": 1}))
    assert not run_job(app, Job("broken", broken, {"trigger": "interval", "seconds": 1}))
    keys = db.session.scalars(sa.select(OutboxMessage.dedupe_key)).all()
    assert keys == ["job:ok"]


def test_heartbeat_records_the_runner_and_forgets_old_ones(db):
    db.session.add(
        JobHeartbeat(
            runner="old:1:x",
            host="old",
            pid=1,
            started_at=NOW - dt.timedelta(days=30),
            beat_at=NOW - dt.timedelta(days=8),
        )
    )
    db.session.commit()
    heartbeat(NOW)
    db.session.commit()
    heartbeat(NOW + dt.timedelta(seconds=30))
    db.session.commit()
    [(_runner, pid, beat_at)] = heartbeats(db)
    assert pid == os.getpid()
    assert beat_at == NOW + dt.timedelta(seconds=30)


def test_second_lock_waits_until_the_first_is_released(app):
    app.config["JOBS_LOCK_POLL_SECONDS"] = 0.05
    first, second = RunnerLock(app), RunnerLock(app)
    stop = threading.Event()
    taken = threading.Event()

    def wait_then_take() -> None:
        if second.acquire(stop):
            taken.set()

    waiter = threading.Thread(target=wait_then_take)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        if not first.postgres:
            assert os.path.exists(os.path.join(app.instance_path, "jobs.lock"))
        waiter.start()
        time.sleep(0.2)
        assert not taken.is_set()
        first.release()
        assert taken.wait(10)
        assert second.held()
        assert not first.try_acquire()
        second.release()
        assert first.try_acquire()
    finally:
        stop.set()
        if waiter.is_alive():
            waiter.join(5)
        first.release()
        second.release()


def test_waiting_for_the_lock_ends_when_stopped(app):
    holder, waiter = RunnerLock(app), RunnerLock(app)
    try:
        assert holder.try_acquire()
        stop = threading.Event()
        stop.set()
        assert not waiter.acquire(stop)
    finally:
        holder.release()
        waiter.release()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs WORKROOM_TEST_POSTGRES_URL")
def test_postgres_advisory_lock_admits_one_runner(app):
    first, second = RunnerLock(app), RunnerLock(app)
    assert first.postgres
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.held()
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def test_runner_beats_and_stops(app, db):
    app.config.update(FAST)
    stop = threading.Event()
    thread = threading.Thread(target=run_runner, args=(app, JOBS, stop))
    thread.start()
    try:
        beat = wait_for(lambda: heartbeats(db))
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert beat[0][1] == os.getpid()
    # The lock is free again.
    lock = RunnerLock(app)
    assert lock.try_acquire()
    lock.release()


def test_two_runners_started_one_works_the_other_takes_over(
    app,
    db,
    start_runner,
    smtp_server,  # noqa: F811
):
    app.config.update(FAST)
    # The runners send what is due by the wall clock: queue the messages due now.
    for n in range(5):
        queue_email(f"notice:{n}", f"deputy{n}@example.cn", "提醒", "正文", utcnow())
    db.session.commit()

    first = start_runner()
    wait_for(lambda: heartbeats(db))
    second = start_runner()
    wait_for(lambda: len(smtp_server.ids()) == 5)
    time.sleep(0.3)
    # Only the runner holding the lock beats and sends.
    assert len(heartbeats(db)) == 1
    active = heartbeats(db)[0][0]

    first.stop()
    queue_email("notice:after", "li@example.cn", "提醒", "正文", utcnow())
    db.session.commit()
    wait_for(lambda: message_id_for("notice:after") in smtp_server.ids())
    assert {row[0] for row in heartbeats(db)} - {active}
    second.stop()

    ids = smtp_server.ids()
    assert sorted(ids) == sorted(
        [message_id_for(f"notice:{n}") for n in range(5)] + [message_id_for("notice:after")]
    )


def test_embedded_runner_runs_in_a_daemon_thread(app, db):
    import atexit

    app.config.update(FAST)
    runner = start_embedded_runner(app, JOBS)
    atexit.unregister(runner.stop)
    try:
        assert runner.daemon
        wait_for(lambda: heartbeats(db))
    finally:
        runner.stop()
    assert not runner.is_alive()


def test_jobs_commands(app, db):
    cli = app.test_cli_runner()
    listing = cli.invoke(jobs_cli, ["list"])
    assert listing.exit_code == 0
    assert "deliver_outbox" in listing.output and "heartbeat" in listing.output
    once = cli.invoke(jobs_cli, ["once", "heartbeat"])
    assert once.exit_code == 0, once.output
    assert len(heartbeats(db)) == 1
    assert cli.invoke(jobs_cli, ["once", "nope"]).exit_code != 0


def test_audit_purge_keeps_six_months_whatever_is_configured(app, db) -> None:
    import datetime as dt

    from workroom.audit.log import record
    from workroom.audit.models import AuditEvent
    from workroom.jobs import purge_audit

    now = dt.datetime(2026, 11, 28, 12, 0)
    record("test.old", summary="old", at=now - dt.timedelta(days=200))
    record("test.recent", summary="recent", at=now - dt.timedelta(days=150))
    db.session.commit()
    app.config["AUDIT_RETENTION_DAYS"] = 30
    purge_audit(now)
    db.session.commit()
    kept = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert kept == {"test.recent"}
    purge_audit(now)
    db.session.commit()
    assert set(db.session.scalars(sa.select(AuditEvent.action))) == {"test.recent"}
