"""Command-line interface: ``flask --app workroom <command>``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from workroom.db import db
from workroom.errors import DomainError


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default PORT or 5000).")
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--no-jobs", is_flag=True, help="Do not run the job runner in this process.")
@with_appcontext
def serve_command(host: str | None, port: int | None, threads: int, no_jobs: bool) -> None:
    """Serve the app with waitress (and the job runner, unless --no-jobs)."""
    import os

    from waitress import serve

    host = host or os.environ.get("HOST") or "127.0.0.1"
    port = port or int(os.environ.get("PORT") or 5000)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not no_jobs:
        from workroom.jobs import start_embedded_runner

        start_embedded_runner(app)
    click.echo(f"Workroom on http://{host}:{port}/")
    serve(app, host=host, port=port, threads=threads, ident="workroom")


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help="admin, viewer, liaison, deputy or agency_handler")
@click.option("--workroom", "workroom_slugs", multiple=True, help="Workroom slug (liaison).")
@click.option("--agency", "agency_code", default=None, help="Agency code (agency handler).")
@click.option("--deputy", "deputy_id", default=None, type=int, help="Deputy id (deputy).")
@click.option("--password", default=None, help="Password (default: a random one, printed).")
@with_appcontext
def create_user_command(
    username: str,
    role: str,
    workroom_slugs: tuple[str, ...],
    agency_code: str | None,
    deputy_id: int | None,
    password: str | None,
) -> None:
    """Create a staff account."""
    from workroom.auth.accounts import create_user
    from workroom.people.models import Agency, Deputy
    from workroom.places.models import Workroom

    workrooms = []
    for slug in workroom_slugs:
        workroom = db.session.scalar(sa.select(Workroom).where(Workroom.slug == slug))
        if workroom is None:
            raise click.ClickException(f"No workroom with slug {slug!r}.")
        workrooms.append(workroom)
    agency = None
    if agency_code:
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise click.ClickException(f"No agency with code {agency_code!r}.")
    deputy = None
    if deputy_id is not None:
        deputy = db.session.get(Deputy, deputy_id)
        if deputy is None:
            raise click.ClickException(f"No deputy with id {deputy_id}.")
    try:
        user, generated = create_user(
            username, role, password=password, workrooms=workrooms, agency=agency, deputy=deputy
        )
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"Created {user.username} ({role}).")
    if password is None:
        click.echo(f"Password: {generated}")


@click.command("seed-demo")
@click.option("--password", default=None, help="Password for the demo accounts.")
@with_appcontext
def seed_demo_command(password: str | None) -> None:
    """Load the demo workroom (idempotent)."""
    from workroom.demo import seed_demo

    report = seed_demo(password=password, now=None)
    db.session.commit()
    click.echo(report.summary())
    if report.password_generated:
        click.echo(f"Demo password (shown once): {report.password}")


@click.command("seed-demo-if-empty")
@click.option("--password", default=None)
@with_appcontext
def seed_demo_if_empty_command(password: str | None) -> None:
    """Load the demo only when the database has no workroom yet (used by make run)."""
    from workroom.places.models import Workroom

    if db.session.scalar(sa.select(sa.func.count()).select_from(Workroom)):
        click.echo("Database has data; demo not loaded.")
        return
    seed_demo_command.callback(password)  # type: ignore[misc]


def init_cli(app: Flask) -> None:
    from workroom.jobs import jobs_cli
    from workroom.people.importing import import_deputies_command
    from workroom.suggestions.routing import route_preview_command

    app.cli.add_command(jobs_cli)
    app.cli.add_command(import_deputies_command)
    app.cli.add_command(route_preview_command)
    for command in (
        serve_command,
        create_user_command,
        seed_demo_command,
        seed_demo_if_empty_command,
    ):
        app.cli.add_command(command)
