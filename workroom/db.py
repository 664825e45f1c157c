"""The SQLAlchemy base, the ``db`` extension, the SQLite connection settings, and the
one way a state change takes what it reads for update (:func:`lock`, :func:`increment`)."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from workroom.clock import utcnow

# The largest value an integer column holds on every database we run on: ids and
# numbers read from addresses are checked against it before they reach a query.
ID_MAX = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Whether the next SQLite transaction should take the write lock when it begins.
# pysqlite's deferred BEGIN lets two writers both read, then one fails with
# "database is locked" when it upgrades; BEGIN IMMEDIATE makes the second wait.
# Safe (read-only) requests turn it off so readers never queue behind writers.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sqlite_write_intent", default=True
)


def set_write_intent(value: bool) -> contextvars.Token[bool]:
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token[bool]) -> None:
    _write_intent.reset(token)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Run the enclosed transaction with the SQLite write lock taken at BEGIN.

    Ends any transaction already open (committing it), so call it before the
    first query of a write inside an otherwise read-only request.
    """
    db.session.commit()
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def configure_sqlite(engine: sa.Engine) -> None:
    """WAL, foreign keys, a busy timeout and write-locking BEGINs for SQLite engines."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        # Let SQLAlchemy's "begin" event issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def is_sqlite(engine: sa.Engine | None = None) -> bool:
    return (engine or db.engine).dialect.name == "sqlite"


# Taking rows for update. Every state change starts by locking the rows whose state it
# checks, then reads them afresh: on PostgreSQL a second caller waits at the lock until
# the first commits and then sees what it wrote, so its checks refuse (409) instead of
# acting on a stale copy. On SQLite a writing request holds the database's write lock
# from BEGIN, so the same statements run without the lock clause, which SQLite lacks.
# Rows are locked in a fixed order (the order given, ids ascending) so two changes
# never wait for each other.


def lock(*objects: Any) -> None:
    """Take the rows of ``objects`` for update, in the order given, and read afresh.

    Pending changes are flushed first; afterwards everything the session holds is
    expired, so what the caller reads next is the current state.
    """
    db.session.flush()
    for obj in objects:
        key = sa.inspect(obj).mapper.primary_key[0]
        db.session.execute(sa.select(key).where(key == obj.id).with_for_update())
    db.session.expire_all()


def lock_rows(model: Any, ids: Iterable[int]) -> None:
    """Take the rows of ``model`` with these ids for update, ids ascending; read afresh."""
    wanted = sorted(set(ids))
    db.session.flush()
    if wanted:
        db.session.execute(
            sa.select(model.id).where(model.id.in_(wanted)).order_by(model.id).with_for_update()
        )
    db.session.expire_all()


def increment(obj: Any, attribute: str, by: int = 1) -> int:
    """Add ``by`` to a counter in the database (``SET n = n + by … RETURNING n``) and
    answer the new value; ``obj`` carries it too. Never read-modify-written in Python."""
    column = sa.inspect(obj).mapper.columns[attribute]
    table = column.table
    value = db.session.execute(
        sa.update(table)
        .where(table.c.id == obj.id)
        .values({column.name: column + by})
        .returning(column)
    ).scalar_one()
    set_committed_value(obj, attribute, value)
    return value
