"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when
WORKROOM_TEST_POSTGRES_URL is set), the app, clients, and small factories."""

from __future__ import annotations

import contextvars
import datetime as dt
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import has_app_context
from flask.testing import FlaskClient

from workroom import create_app


def _postgres_url_for_worker(url: str | None) -> str | None:
    """The PostgreSQL database of this pytest-xdist worker (``test_gw0`` …), created when
    missing: workers share a server, never a database. Without xdist, ``url`` itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = sa.engine.make_url(url)
    own = base.set(database=f"{base.database}_{worker}")
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
        )
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
    engine.dispose()
    return own.render_as_string(hide_password=False)


POSTGRES_URL = _postgres_url_for_worker(os.environ.get("WORKROOM_TEST_POSTGRES_URL"))
PASSWORD = "correct-horse-battery"
# Tables whose rows the migrations ship (reference data) and tests must find again.
REFERENCE_TABLES = ("role", "category")
# The traveller of a session run with --clock-ahead.
_moved_clock = pytest.StashKey[time_machine.travel]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-ahead",
        type=int,
        default=0,
        metavar="DAYS",
        help="run the whole session with the clock moved DAYS days ahead (still ticking), "
        "to find tests that pass only near the day they were written",
    )


def pytest_configure(config: pytest.Config) -> None:
    days = config.getoption("--clock-ahead")
    if days:
        # Started before collection, so module-level dates are moved too.
        moved = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
        config.stash[_moved_clock] = time_machine.travel(moved, tick=True)
        config.stash[_moved_clock].start()


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_moved_clock, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    days = config.getoption("--clock-ahead")
    if not days:
        return None
    return f"clock moved {days} days ahead, to {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--clock-ahead"):
        return
    for item in items:
        marker = item.get_closest_marker("real_clock")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"runs only on the real clock: {reason}"))


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """Compile the translation catalogs when missing or older than their .po files
    (``make test`` already does; this keeps a bare ``pytest`` run in Chinese too)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent / "workroom" / "translations"
    for po_path in root.glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


def base_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SECURITY_PASSWORD_SALT": "test-salt",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "PUBLIC_URL": "http://workroom.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Hashing with argon2's defaults would dominate the suite's time.
        "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {
            "argon2__rounds": 1,
            "argon2__memory_cost": 1024,
            "argon2__parallelism": 1,
        },
    }


def _migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the migrations once from an empty database; tests start from a copy."""
    root = tmp_path_factory.mktemp("db")
    if POSTGRES_URL:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        app = create_app(base_config(root, POSTGRES_URL))
        _migrate(app)
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            reference = {
                t: [dict(r._mapping) for r in conn.execute(sa.text(f'SELECT * FROM "{t}"'))]
                for t in REFERENCE_TABLES
            }
        engine.dispose()
        return {"kind": "postgresql", "url": POSTGRES_URL, "reference": reference}
    template = root / "template.sqlite"
    app = create_app(base_config(root, f"sqlite:///{template}"))
    _migrate(app)
    with app.app_context():
        from workroom.db import db

        db.engine.dispose()
    return {"kind": "sqlite", "template": template}


_counter = itertools.count()


def reset_postgres(app, reference: dict[str, list[dict[str, Any]]]) -> None:
    from workroom.db import db

    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            for name in REFERENCE_TABLES:
                rows = reference[name]
                if rows:
                    conn.execute(db.metadata.tables[name].insert(), rows)
                    conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f'(SELECT max(id) FROM "{name}"))'
                        )
                    )


def database_url_for_test(migrated_database: dict[str, Any], tmp_path: Path) -> str:
    if migrated_database["kind"] == "postgresql":
        return migrated_database["url"]
    path = tmp_path / f"test-{next(_counter)}.sqlite"
    shutil.copyfile(migrated_database["template"], path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(migrated_database, tmp_path) -> dict[str, Any]:
    """The test configuration; a test may change it before asking for ``app``."""
    return base_config(tmp_path, database_url_for_test(migrated_database, tmp_path))


@pytest.fixture
def app(app_config, migrated_database) -> Iterator[Any]:
    app = create_app(app_config)
    yield app
    from workroom.db import db

    if migrated_database["kind"] == "postgresql":
        reset_postgres(app, migrated_database["reference"])
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db(app) -> Iterator[Any]:
    """The ``db`` extension inside an app context."""
    from workroom.db import db as database

    with app.app_context():
        yield database
        database.session.remove()


class IsolatedClient(FlaskClient):
    """A test client whose requests run outside the test's own app context.

    Flask reuses an app context that is already pushed, which would share ``g``
    (the signed-in user) and the database session between the test and every
    request. Each request here starts from an empty context, as in production;
    the test's pending changes are committed first so the request sees them.
    """

    def open(self, *args: Any, **kwargs: Any):
        from workroom.db import db as database

        if has_app_context():
            database.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            database.session.expire_all()
        return response


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Factories: each makes a valid object with defaults; keywords override.

_seq = itertools.count(1)


@pytest.fixture
def make_area(db):
    from workroom.places.models import Area

    def make(name: str | None = None, level: str = "street", parent: Area | None = None) -> Area:
        if parent is None and level != "city":
            city = Area(name=f"城市{next(_seq)}", level="city")
            district = Area(name=f"区{next(_seq)}", level="district", parent=city)
            parent = district if level == "street" else city
            if level == "community":
                parent = Area(name=f"街道{next(_seq)}", level="street", parent=district)
        area = Area(name=name or f"地区{next(_seq)}", level=level, parent=parent)
        db.session.add(area)
        db.session.commit()
        return area

    return make


@pytest.fixture
def make_workroom(db, make_area):
    from workroom.places.models import Workroom

    def make(**kw: Any) -> Workroom:
        n = next(_seq)
        kw.setdefault("name", f"工作室{n}")
        kw.setdefault("slug", f"room-{n}")
        kw.setdefault("liaison_hours", "09:00-12:00,14:30-17:30")
        if "area" not in kw:
            kw["area"] = make_area()
        workroom = Workroom(**kw)
        db.session.add(workroom)
        db.session.commit()
        return workroom

    return make


@pytest.fixture
def make_deputy(db):
    from workroom.people.models import Deputy

    def make(**kw: Any) -> Deputy:
        kw.setdefault("name", f"代表{next(_seq)}")
        kw.setdefault("level", "county")
        deputy = Deputy(**kw)
        db.session.add(deputy)
        db.session.commit()
        return deputy

    return make


@pytest.fixture
def make_agency(db):
    from workroom.people.models import Agency

    def make(**kw: Any) -> Agency:
        n = next(_seq)
        kw.setdefault("code", f"agency-{n}")
        kw.setdefault("name", f"承办单位{n}")
        agency = Agency(**kw)
        db.session.add(agency)
        db.session.commit()
        return agency

    return make


@pytest.fixture
def make_user(db):
    from workroom.auth.accounts import create_user

    def make(role: str = "admin", username: str | None = None, **scope: Any):
        user, _ = create_user(username or f"{role}{next(_seq)}", role, password=PASSWORD, **scope)
        db.session.commit()
        return user

    return make


def login(client, user_or_name: Any, password: str = PASSWORD):
    """Sign in through the real form (CSRF is on in tests too)."""
    username = getattr(user_or_name, "username", user_or_name)
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in page"
    return match.group(1)


@pytest.fixture
def login_as(client, make_user):
    """Sign the test client in with a new account of ``role``; returns the user."""

    def sign_in(role: str = "admin", **scope: Any):
        user = make_user(role, **scope)
        login(client, user)
        return user

    return sign_in


def post_form(client, url: str, data: dict[str, Any], **kw: Any):
    """POST a form with the CSRF token taken from the page at ``url``."""
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kw)


def first_unknown_year() -> int:
    """The first year after those for which the holidays package carries China's holiday
    arrangements: the year tests take as "not confirmed". A holidays release that adds a
    year moves it on, so tests derive it from here instead of naming it."""
    from workroom.workdays.calendar import package_years

    return max(package_years()) + 1
