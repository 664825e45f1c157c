"""Every scheduled job in one table, and the ``jobs`` commands.

A job is a plain function taking ``now`` (naive UTC) inside an app context; the runner
(``workroom.runner``) commits after it. Jobs scan our own tables and queue messages
under unique keys, so a missed or doubled run changes nothing.

Exactly one runner is active: it holds a PostgreSQL advisory lock, or a file lock in
the instance folder on SQLite. ``flask --app workroom jobs run`` starts one; ``serve``
starts one in-process. A second runner waits and takes over when the first dies. Web
workers never start a scheduler.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from workroom.audit.chain import purge_audit_events, seal_and_verify, seal_events
from workroom.outbox.delivery import deliver_due
from workroom.outbox.retention import purge_messages
from workroom.runner.scheduler import Job, heartbeat, run_job, run_runner
from workroom.schedule.reminders import send_reminders
from workroom.suggestions.attachments import purge_citizen_attachments
from workroom.suggestions.deadlines import check_deadlines
from workroom.suggestions.retention import purge_suggestion_citizens
from workroom.visits.retention import purge_visitor_data

log = logging.getLogger("workroom.jobs")


# The jobs


def deliver_outbox(now: dt.datetime) -> None:
    """Send due outbox messages, a few batches at most per run."""
    batch = int(current_app.config["OUTBOX_BATCH"])
    for _ in range(10):
        if deliver_due(now, batch=batch).total < batch:
            break


def purge_audit(now: dt.datetime) -> None:
    """Remove audit events past their retention (never younger than six months), once
    the chain has reached them."""
    seal_events(now)
    purge_audit_events(now)


JOBS: list[Job] = [
    Job("deliver_outbox", deliver_outbox, {"trigger": "interval", "seconds": 15}, at_start=True),
    Job("heartbeat", heartbeat, {"trigger": "interval", "seconds": 30}, at_start=True),
    Job("seal_audit", seal_events, {"trigger": "interval", "minutes": 5}, at_start=True),
    Job("purge_audit", purge_audit, {"trigger": "cron", "hour": 3, "minute": 17}),
    # After the purge: the chain verifies from the anchor the purge moved.
    Job("verify_audit", seal_and_verify, {"trigger": "cron", "hour": 4, "minute": 7}),
    Job("send_reminders", send_reminders, {"trigger": "interval", "minutes": 5}, at_start=True),
    Job("check_deadlines", check_deadlines, {"trigger": "interval", "minutes": 30}, at_start=True),
    Job("purge_visitor_data", purge_visitor_data, {"trigger": "cron", "hour": 3, "minute": 41}),
    Job(
        "purge_suggestion_citizens",
        purge_suggestion_citizens,
        {"trigger": "cron", "hour": 3, "minute": 45},
    ),
    Job("purge_messages", purge_messages, {"trigger": "cron", "hour": 3, "minute": 49}),
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
    run_runner(app, JOBS, stop)


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
