"""Template globals and filters shared by every page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime, get_locale

from workroom.auth.permissions import allowed
from workroom.i18n import html_lang
from workroom.privacy import mask_phone


def _datetime(value: dt.datetime | None, fmt: str = "medium") -> str:
    return "" if value is None else format_datetime(value, fmt)


def _date(value: dt.date | None, fmt: str = "medium") -> str:
    return "" if value is None else format_date(value, fmt)


def url_with(**changes: Any) -> str:
    """The current page's URL with some query arguments changed (for pagination)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    return url_for(request.endpoint or "site.home", **(request.view_args or {}), **args)


def init_jinja(app: Flask) -> None:
    app.jinja_env.globals.update(
        allowed=allowed, url_with=url_with, html_lang=html_lang, get_locale=get_locale
    )
    app.jinja_env.filters.update(mask_phone=mask_phone, datetime=_datetime, date=_date)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
