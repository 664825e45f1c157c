"""List pages shared by every area: the search box, inactive rows and pagination."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, request

from workroom.db import db


def search(stmt: sa.Select, *columns: Any) -> tuple[sa.Select, str]:
    """Narrow ``stmt`` to rows where any of ``columns`` holds the ``q`` argument.

    Answers the statement and the cleaned search text (empty when none was given).
    """
    q = (request.args.get("q") or "").strip()[:100]
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(sa.or_(*(c.ilike(pattern) for c in columns)))
    return stmt, q


def showing_all() -> bool:
    """Whether the list was asked to include inactive rows (``?status=all``)."""
    return request.args.get("status") == "all"


def active_only(stmt: sa.Select, model: Any) -> sa.Select:
    """Narrow ``stmt`` to active rows unless the list shows inactive ones too."""
    return stmt if showing_all() else stmt.where(model.active)


def page_of(stmt: sa.Select, per_page: int | None = None) -> Any:
    """The page of ``stmt`` named by the ``page`` argument (PAGE_SIZE rows unless told)."""
    return db.paginate(
        stmt,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=per_page or current_app.config["PAGE_SIZE"],
        error_out=False,
    )
