"""Every scheduled job in one table, and the one job runner that runs them.

A job is a plain function taking ``now`` — a naive datetime in UTC, as every
timestamp column stores it — and running inside an app context; ``run_job``
commits after it, or rolls back and logs when it raises. Jobs scan our own
tables and queue messages under unique keys, so a missed or doubled run changes
nothing.

Exactly one runner is active: it holds a PostgreSQL advisory lock, or a file
lock in the instance folder on SQLite. ``flask --app workroom jobs run`` starts
one; ``serve`` starts one in-process (``start_embedded_runner``). A second runner
waits and takes over when the first dies. Web workers never start a scheduler.
"""

from __future__ import annotations

import atexit
import contextvars
import dataclasses
import datetime as dt
import hashlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import click
import filelock
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app
from flask.cli import AppGroup

from workroom.audit.log import purge_audit_events
from workroom.db import db, utcnow
from workroom.outbox.delivery import deliver_due
from workroom.outbox.models import JobHeartbeat
from workroom.schedule.reminders import send_reminders
from workroom.suggestions.attachments import purge_citizen_attachments
from workroom.suggestions.deadlines import check_deadlines
from workroom.visits.retention import purge_visitor_data

log = logging.getLogger("workroom.jobs")

# Heartbeats of runners that stopped are kept this long.
HEARTBEAT_KEEP = dt.timedelta(days=7)
# pg_try_advisory_lock takes a 64-bit key; this one is ours alone.
ADVISORY_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"workroom.jobs.runner").digest()[:8], "big", signed=True
)


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    function: Callable[[dt.datetime], Any]
    # Keywords for APScheduler's add_job: {"trigger": "interval", "seconds": 30}.
    trigger: dict[str, Any]
    # Run once as soon as the runner starts, then on the trigger.
    at_start: bool = False


@dataclasses.dataclass(frozen=True)
class RunnerInfo:
    runner: str
    host: str
    pid: int
    started_at: dt.datetime

    @classmethod
    def new(cls) -> RunnerInfo:
        host, pid = socket.gethostname()[:60], os.getpid()
        return cls(f"{host}:{pid}:{uuid.uuid4().hex[:8]}", host, pid, utcnow())


# The runner whose scheduler is running the current job (see run_job).
_current_runner: contextvars.ContextVar[RunnerInfo | None] = contextvars.ContextVar(
    "job_runner", default=None
)
_process_runner: RunnerInfo | None = None


# The jobs


def deliver_outbox(now: dt.datetime) -> None:
    """Send due outbox messages, a few batches at most per run."""
    batch = int(current_app.config["OUTBOX_BATCH"])
    for _ in range(10):
        if deliver_due(now, batch=batch).total < batch:
            break


def heartbeat(now: dt.datetime) -> None:
    """Record that this runner is alive; forget runners silent for a week."""
    global _process_runner
    info = _current_runner.get()
    if info is None:
        _process_runner = _process_runner or RunnerInfo.new()
        info = _process_runner
    row = db.session.scalar(sa.select(JobHeartbeat).where(JobHeartbeat.runner == info.runner))
    if row is None:
        row = JobHeartbeat(
            runner=info.runner, host=info.host, pid=info.pid, started_at=info.started_at
        )
        db.session.add(row)
    row.beat_at = now
    db.session.execute(
        sa.delete(JobHeartbeat).where(
            JobHeartbeat.runner != info.runner, JobHeartbeat.beat_at < now - HEARTBEAT_KEEP
        )
    )


def purge_audit(now: dt.datetime) -> None:
    """Remove audit events past their retention (never younger than six months)."""
    purge_audit_events(now, int(current_app.config["AUDIT_RETENTION_DAYS"]))


JOBS: list[Job] = [
    Job("deliver_outbox", deliver_outbox, {"trigger": "interval", "seconds": 15}, at_start=True),
    Job("heartbeat", heartbeat, {"trigger": "interval", "seconds": 30}, at_start=True),
    Job("purge_audit", purge_audit, {"trigger": "cron", "hour": 3, "minute": 17}),
    Job("send_reminders", send_reminders, {"trigger": "interval", "minutes": 5}, at_start=True),
    Job("check_deadlines", check_deadlines, {"trigger": "interval", "minutes": 30}, at_start=True),
    Job("purge_visitor_data", purge_visitor_data, {"trigger": "cron", "hour": 3, "minute": 41}),
    # After the visitors' data: a suggestion's files go once all its citizens are purged.
    Job(
        "purge_citizen_attachments",
        purge_citizen_attachments,
        {"trigger": "cron", "hour": 3, "minute": 53},
    ),
]


def job_named(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)


def run_job(app: Flask, job: Job, runner: RunnerInfo | None = None) -> bool:
    """Run ``job`` now in its own app context and commit; never raises.

    Returns False when the job raised (the error is logged and rolled back).
    """
    token = _current_runner.set(runner)
    started = time.monotonic()
    try:
        with app.app_context():
            try:
                job.function(utcnow())
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
    except Exception:
        log.exception("Job %s failed", job.name)
        return False
    finally:
        _current_runner.reset(token)
    log.debug("Job %s done in %.2f s", job.name, time.monotonic() - started)
    return True


# The lock


class RunnerLock:
    """The right to run jobs, held by one runner at a time across processes and hosts.

    PostgreSQL: a session advisory lock on a dedicated connection, released by the
    server when that connection ends (also when the process dies). Other databases
    (SQLite): a file lock on ``<instance>/jobs.lock``, released by the OS likewise.
    """

    def __init__(self, app: Flask) -> None:
        with app.app_context():
            self.url = db.engine.url
        options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
        self.connect_args = dict(options.get("connect_args") or {})
        self.poll = float(app.config["JOBS_LOCK_POLL_SECONDS"])
        self.postgres = self.url.get_backend_name() == "postgresql"
        self._engine: sa.Engine | None = None
        self._connection: sa.Connection | None = None
        self._file: filelock.FileLock | None = None
        if not self.postgres:
            path = os.path.join(app.instance_path, "jobs.lock")
            self._file = filelock.FileLock(path, thread_local=False)
        self.holding = False

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this instance holds it."""
        if self.holding:
            return True
        if self._file is not None:
            try:
                self._file.acquire(timeout=0)
            except filelock.Timeout:
                return False
            self.holding = True
            return True
        return self._try_advisory()

    def _try_advisory(self) -> bool:
        # A pool of its own, so the lock's session never goes back to a shared pool.
        self._engine = self._engine or sa.create_engine(
            self.url, poolclass=sa.pool.NullPool, connect_args=self.connect_args
        )
        try:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sa.exc.SQLAlchemyError as error:
            log.warning("Runner lock: cannot connect: %s", error)
            return False
        try:
            got = connection.scalar(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        except sa.exc.SQLAlchemyError as error:
            log.warning("Runner lock: %s", error)
            got = False
        if not got:
            connection.close()
            return False
        self._connection = connection
        self.holding = True
        return True

    def acquire(self, stop_event: threading.Event | None = None) -> bool:
        """Wait until the lock is ours (True) or ``stop_event`` is set (False)."""
        stop_event = stop_event or threading.Event()
        while not stop_event.is_set():
            if self.try_acquire():
                return True
            stop_event.wait(self.poll)
        return False

    def held(self) -> bool:
        """Whether the lock is still ours (a lost database connection loses it)."""
        if not self.holding:
            return False
        if self._connection is None:
            return True
        try:
            self._connection.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._file is not None and self.holding:
            self._file.release()
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.scalar(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
            except sa.exc.SQLAlchemyError:
                pass
            finally:
                connection.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self.holding = False


# The runner


def build_scheduler(app: Flask, runner: RunnerInfo) -> BackgroundScheduler:
    """A scheduler with every job of JOBS (as changed by JOB_TRIGGERS), not started."""
    zone = ZoneInfo(app.config.get("TIMEZONE") or "Asia/Shanghai")
    scheduler = BackgroundScheduler(
        timezone=zone,
        # A late or overlapping run is merged into one: jobs catch up by themselves.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    overrides = app.config["JOB_TRIGGERS"] or {}
    for job in JOBS:
        trigger = overrides.get(job.name, job.trigger)
        if not trigger:
            continue
        trigger = dict(trigger)
        extra = {"next_run_time": dt.datetime.now(zone)} if job.at_start else {}
        scheduler.add_job(
            run_job,
            trigger.pop("trigger"),
            args=(app, job, runner),
            id=job.name,
            name=job.name,
            **trigger,
            **extra,
        )
    return scheduler


def run_runner(app: Flask, stop_event: threading.Event | None = None) -> None:
    """Run the jobs until ``stop_event`` is set, while holding the runner lock.

    Waits for the lock first; if the lock is lost (PostgreSQL connection gone),
    stops the jobs and waits for it again.
    """
    stop = stop_event or threading.Event()
    lock = RunnerLock(app)
    while not stop.is_set():
        log.info("Job runner waiting for the runner lock")
        if not lock.acquire(stop):
            break
        runner = RunnerInfo.new()
        scheduler = build_scheduler(app, runner)
        log.info("Job runner %s started", runner.runner)
        scheduler.start()
        try:
            while not stop.wait(lock.poll):
                if not lock.held():
                    log.error("Job runner %s lost the runner lock; jobs stopped", runner.runner)
                    break
        finally:
            scheduler.shutdown(wait=True)
            lock.release()
            log.info("Job runner %s stopped", runner.runner)


class EmbeddedRunner(threading.Thread):
    """The job runner in a daemon thread of the web server's process."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="workroom-jobs", daemon=True)
        self.app = app
        self.stop_event = threading.Event()

    def run(self) -> None:
        run_runner(self.app, self.stop_event)

    def stop(self, timeout: float = 10) -> None:
        self.stop_event.set()
        self.join(timeout)


def start_embedded_runner(app: Flask) -> EmbeddedRunner:
    """Start the job runner in this process (embedded mode, ``serve``).

    It waits for the runner lock if another runner holds it, and stops when the
    process exits.
    """
    runner = EmbeddedRunner(app)
    runner.start()
    atexit.register(runner.stop)
    return runner


# The command line

jobs_cli = AppGroup("jobs", help="Scheduled jobs.")


@jobs_cli.command("run")
def run_command() -> None:
    """Run the job runner until stopped (SIGTERM or Ctrl-C)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info("Job runner stopping (signal %s)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo("Job runner: waiting for the runner lock, then running the jobs.")
    run_runner(app, stop)


@jobs_cli.command("list")
def list_command() -> None:
    """List the scheduled jobs and their triggers."""
    overrides = current_app.config["JOB_TRIGGERS"] or {}
    for job in JOBS:
        trigger = overrides.get(job.name, job.trigger)
        click.echo(f"{job.name}\t{trigger if trigger else 'disabled'}")


@jobs_cli.command("once")
@click.argument("name")
def once_command(name: str) -> None:
    """Run one job now, outside the runner (jobs are safe to run twice)."""
    try:
        job = job_named(name)
    except KeyError:
        raise click.ClickException(f"No job named {name!r}.") from None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not run_job(app, job):
        raise click.ClickException(f"Job {name} failed; see the log.")
    click.echo(f"Job {name} done.")
