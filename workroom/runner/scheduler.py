"""The job runner: runs a table of jobs with APScheduler while it holds the runner lock,
and records a heartbeat that the admin's messages page shows.

A job is a plain function taking ``now`` — a naive datetime in UTC, as every
timestamp column stores it — and running inside an app context; ``run_job``
commits after it, or rolls back and logs when it raises. Exactly one runner is
active (see ``lock.RunnerLock``); a second one waits and takes over when the first
dies. The table of jobs is ``workroom.jobs.JOBS``.
"""

from __future__ import annotations

import atexit
import contextvars
import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app

from workroom.clock import utcnow, zone
from workroom.db import db
from workroom.runner.lock import RunnerLock
from workroom.runner.models import JobHeartbeat

log = logging.getLogger("workroom.jobs")

# Heartbeats of runners that stopped are kept this long.
HEARTBEAT_KEEP = dt.timedelta(days=7)


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


@dataclasses.dataclass(frozen=True)
class RunnerState:
    beat: JobHeartbeat | None
    stale: bool


def runner_state(now: dt.datetime) -> RunnerState:
    """The latest heartbeat, and whether it is missing or older than the stale limit."""
    beat = db.session.scalars(
        sa.select(JobHeartbeat).order_by(JobHeartbeat.beat_at.desc()).limit(1)
    ).first()
    limit = dt.timedelta(seconds=float(current_app.config.get("JOBS_HEARTBEAT_STALE_SECONDS", 120)))
    return RunnerState(beat=beat, stale=beat is None or now - beat.beat_at > limit)


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


def build_scheduler(app: Flask, jobs: Sequence[Job], runner: RunnerInfo) -> BackgroundScheduler:
    """A scheduler with every job of ``jobs`` (as changed by JOB_TRIGGERS), not started."""
    with app.app_context():
        local = zone()
    scheduler = BackgroundScheduler(
        timezone=local,
        # A late or overlapping run is merged into one: jobs catch up by themselves.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    overrides = app.config["JOB_TRIGGERS"] or {}
    for job in jobs:
        trigger = overrides.get(job.name, job.trigger)
        if not trigger:
            continue
        trigger = dict(trigger)
        extra = {"next_run_time": dt.datetime.now(local)} if job.at_start else {}
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


def run_runner(app: Flask, jobs: Sequence[Job], stop_event: threading.Event | None = None) -> None:
    """Run ``jobs`` until ``stop_event`` is set, while holding the runner lock.

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
        scheduler = build_scheduler(app, jobs, runner)
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

    def __init__(self, app: Flask, jobs: Sequence[Job]) -> None:
        super().__init__(name="workroom-jobs", daemon=True)
        self.app = app
        self.jobs = jobs
        self.stop_event = threading.Event()

    def run(self) -> None:
        run_runner(self.app, self.jobs, self.stop_event)

    def stop(self, timeout: float = 10) -> None:
        self.stop_event.set()
        self.join(timeout)


def start_embedded_runner(app: Flask, jobs: Sequence[Job]) -> EmbeddedRunner:
    """Start the job runner in this process (embedded mode, ``serve``).

    It waits for the runner lock if another runner holds it, and stops when the
    process exits.
    """
    runner = EmbeddedRunner(app, jobs)
    runner.start()
    atexit.register(runner.stop)
    return runner
