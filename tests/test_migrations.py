"""The schema comes from the migrations: they run both ways, match the models, ship the
reference data, and SQLite connections are set up for several writers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tests.conftest import base_config
from workroom import create_app
from workroom.auth.models import Role
from workroom.categories.models import Category

TOP_LEVEL_CATEGORIES = [
    "urban",
    "environment",
    "health",
    "social-security",
    "education",
    "agriculture",
    "transport",
    "community",
    "other",
]


@pytest.fixture
def sqlite_only(migrated_database) -> None:
    if migrated_database["kind"] != "sqlite":
        pytest.skip("SQLite connection settings; PostgreSQL needs none of them")


def test_fresh_sqlite_upgrades_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite"
    app = create_app(base_config(tmp_path, f"sqlite:///{path}"))
    from workroom.db import db

    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory)
        tables = set(sa.inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Role)) == 5
        db.session.remove()

        downgrade(directory=directory, revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}

        upgrade(directory=directory)
        assert set(db.metadata.tables) <= set(sa.inspect(db.engine).get_table_names())
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Category)) > 9
        db.session.remove()
        db.engine.dispose()


def test_models_and_migrations_agree(db) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_reference_roles_are_shipped(db) -> None:
    names = set(db.session.scalars(sa.select(Role.name)))
    assert names == {"admin", "viewer", "liaison", "deputy", "agency_handler"}


def test_reference_categories_are_shipped(db) -> None:
    top = db.session.scalars(
        sa.select(Category).where(Category.parent_id.is_(None)).order_by(Category.position)
    ).all()
    assert [c.code for c in top] == TOP_LEVEL_CATEGORIES
    for category in top:
        assert category.label_zh and category.label_en
        if category.code == "other":
            assert category.children == []
        else:
            assert category.children, f"{category.code} has no sub-categories"
            assert all(child.code.startswith(category.code + "-") for child in category.children)


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(db, sqlite_only) -> None:
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_sqlite_enforces_foreign_keys(db, sqlite_only) -> None:
    from workroom.places.models import Workroom

    db.session.add(Workroom(name="孤儿工作室", slug="orphan", area_id=999_999))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_two_writers_at_once_both_succeed(app, sqlite_only) -> None:
    from workroom.db import db
    from workroom.places.directory import create_area
    from workroom.places.models import Area

    per_writer = 20
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                for i in range(per_writer):
                    create_area(f"并发市{writer}-{i}", "city", None)
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 (reported by the main thread)
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(Area).where(Area.name.like("并发市%"))
        )
        db.session.remove()
    assert count == 2 * per_writer
