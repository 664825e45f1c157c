"""The right to run jobs, held by one runner at a time across processes and hosts."""

from __future__ import annotations

import hashlib
import logging
import os
import threading

import filelock
import sqlalchemy as sa
from flask import Flask

from workroom.db import db

log = logging.getLogger("workroom.jobs")

# pg_try_advisory_lock takes a 64-bit key; this one is ours alone.
ADVISORY_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"workroom.jobs.runner").digest()[:8], "big", signed=True
)


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
