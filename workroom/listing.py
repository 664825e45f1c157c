"""List pages shared by every area: numbers in the query string, the search box,
inactive rows and pagination.

Every page number and id a list reads from its address is parsed here: a value that is
not a whole number in range answers 400 with a message in the reader's language (a
20-digit ``?page=`` would otherwise overflow the database's integer), and a page beyond
the last shows the last page.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from workroom.db import ID_MAX, db


class BadQueryArgument(BadRequest):
    """A value in the address that is not what the page reads; the message is shown."""

    shown = True


def int_arg(name: str, *, minimum: int = 1, maximum: int = ID_MAX) -> int | None:
    """The whole number in the query argument ``name``, or None when it is absent or
    empty. Anything else out of ``minimum``..``maximum`` answers 400."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= maximum:
        raise BadQueryArgument(
            _(
                "The address asks for “%(name)s=%(value)s”, which is not a number "
                "this page knows. Go back and choose from the page.",
                name=name[:20],
                value=raw[:20],
            )
        )
    return int(raw)


def id_arg(name: str) -> int | None:
    """An id from the query string (a filter's ``?workroom=``); None when absent."""
    return int_arg(name)


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
    """The page of ``stmt`` named by the ``page`` argument (PAGE_SIZE rows unless told);
    a page beyond the last is the last page."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    page = db.paginate(stmt, page=int_arg("page") or 1, per_page=per_page, error_out=False)
    if page.page > 1 and not page.items and page.pages:
        page = db.paginate(stmt, page=page.pages, per_page=per_page, error_out=False)
    return page
