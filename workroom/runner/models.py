"""The job runner's table: the last sign of life of each runner process."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from workroom.db import db


class JobHeartbeat(db.Model):
    """The last sign of life of each job runner process."""

    __tablename__ = "job_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    # host:pid:random, unique for each start of a runner.
    runner: Mapped[str] = mapped_column(sa.String(120), unique=True)
    host: Mapped[str] = mapped_column(sa.String(100))
    pid: Mapped[int]
    started_at: Mapped[dt.datetime]
    beat_at: Mapped[dt.datetime] = mapped_column(index=True)
