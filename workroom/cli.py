"""Command-line interface: ``flask --app workroom <command>``."""

from __future__ import annotations

from pathlib import Path

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
        from workroom.jobs import JOBS
        from workroom.runner.scheduler import start_embedded_runner

        start_embedded_runner(app, JOBS)
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


@click.command("import-deputies")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
@with_appcontext
def import_deputies_command(path: Path, dry_run: bool) -> None:
    """Import deputies from an .xlsx or .csv roster: all rows, or none if any is wrong."""
    from workroom.people import importing

    max_bytes, max_rows = importing.import_limits()
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    try:
        roster = importing.read_roster(data, max_bytes=max_bytes, max_rows=max_rows)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    if dry_run:
        check = importing.check_roster(roster)
    else:
        check = importing.import_roster(roster, source=path.name)
    if not check.ok:
        db.session.rollback()
        for line in importing.describe_errors(check):
            click.echo(f"Row {line}", err=True)
        raise click.ClickException(
            f"{check.with_errors} of {len(check.rows)} rows have errors; nothing was imported."
        )
    counts = f"{check.created} created, {check.updated} updated, {check.unchanged} unchanged"
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run, nothing saved: {counts}.")
        return
    db.session.commit()
    click.echo(f"Imported {len(check.rows)} rows: {counts}.")


@click.command("route-preview")
@click.option("--category", "category_code", required=True, help="Category code, e.g. environment.")
@click.option("--area", "area_ref", required=True, help="Area name or id.")
@click.option(
    "--locale", default=None, help="Language of the output (default: the configured one)."
)
@with_appcontext
def route_preview_command(category_code: str, area_ref: str, locale: str | None) -> None:
    """Show which routing rule fires for a category and an area, and why."""
    from workroom.suggestions import routing

    try:
        category = routing.find_category(category_code)
        area = routing.find_area(area_ref)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    decision = routing.route(category, area)
    for line in routing.preview_lines(
        decision, locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    ):
        click.echo(line)


def init_cli(app: Flask) -> None:
    from workroom.audit.chain import audit_cli
    from workroom.jobs import jobs_cli

    app.cli.add_command(jobs_cli)
    app.cli.add_command(audit_cli)
    for command in (
        serve_command,
        create_user_command,
        seed_demo_command,
        seed_demo_if_empty_command,
        import_deputies_command,
        route_preview_command,
    ):
        app.cli.add_command(command)
