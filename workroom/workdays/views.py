"""Staff pages of the working-day calendar: the year view, adjustments, confirmation."""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
from typing import Any

import sqlalchemy as sa
from babel.dates import format_skeleton, get_day_names
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_security import auth_required, current_user

from workroom.auth.permissions import allowed, get_or_404, require
from workroom.clock import local_today
from workroom.db import db
from workroom.errors import DomainError
from workroom.workdays.calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    WorkingCalendar,
    add_adjustment,
    confirm_year,
    package_language,
    remove_adjustment,
    unconfirmed_message,
    working_calendar,
)
from workroom.workdays.forms import AdjustmentForm, ConfirmYearForm
from workroom.workdays.models import CalendarAdjustment, ConfirmedYear

bp = Blueprint("workdays", __name__, url_prefix="/staff")

VIEW = "calendar.view"
MANAGE = "calendar.manage"


def _this_year() -> int:
    return local_today().year


def _page_year() -> int:
    """The ``year`` query argument, this year when absent; 404 outside 2000–2100."""
    year = request.args.get("year", type=int)
    if year is None:
        return _this_year()
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(404)
    return year


def _months(cal: WorkingCalendar, year: int) -> list[dict[str, Any]]:
    """Each month of ``year`` as weeks of day descriptions (None outside the month)."""
    locale = get_locale()
    months = []
    for month in range(1, 13):
        weeks = [
            [cal.describe(day) if day.month == month else None for day in week]
            for week in stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
        ]
        months.append(
            {
                "caption": format_skeleton("yMMMM", dt.date(year, month, 1), locale=locale),
                "weeks": weeks,
            }
        )
    return months


def _render(
    year: int,
    adjustment_form: AdjustmentForm | None = None,
    confirm_form: ConfirmYearForm | None = None,
    status: int = 200,
) -> Any:
    locale = get_locale()
    cal = working_calendar([year], language=package_language(locale))
    confirmed = db.session.scalar(sa.select(ConfirmedYear).where(ConfirmedYear.year == year))
    adjustments = db.session.scalars(
        sa.select(CalendarAdjustment)
        .where(CalendarAdjustment.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        .order_by(CalendarAdjustment.day)
    ).all()
    can_manage = allowed(MANAGE)
    if can_manage:
        adjustment_form = adjustment_form or AdjustmentForm(formdata=None)
        confirm_form = confirm_form or ConfirmYearForm(formdata=None, year=year)
    day_names = get_day_names("abbreviated", locale=locale)
    long_day_names = get_day_names("wide", locale=locale)
    return render_template(
        "workdays/calendar.html",
        year=year,
        cal=cal,
        months=_months(cal, year),
        special_days=cal.special_days(year),
        weekdays=[(day_names[i], long_day_names[i]) for i in range(7)],
        short_date=lambda day: format_skeleton("MMMEd", day, locale=locale),
        package_carries=cal.package_carries(year),
        confirmed=confirmed,
        is_confirmed=cal.is_confirmed(year),
        warning=unconfirmed_message([year]),
        adjustments=adjustments,
        can_manage=can_manage,
        adjustment_form=adjustment_form,
        confirm_form=confirm_form,
    ), status


def _calendar_url(year: int) -> str:
    return url_for("workdays.calendar", year=year)


@bp.get("/calendar")
@auth_required()
def calendar() -> Any:
    require(VIEW)
    return _render(_page_year())


@bp.post("/calendar/adjustments")
@auth_required()
def adjustment_add() -> Any:
    require(MANAGE)
    form = AdjustmentForm()
    if form.validate_on_submit():
        try:
            adjustment = add_adjustment(
                form.day.data, form.kind.data, form.name.data, form.notice.data, current_user
            )
            db.session.commit()
            flash(_("Adjustment for %(day)s saved.", day=adjustment.day.isoformat()))
            return redirect(_calendar_url(adjustment.day.year))
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    year = form.day.data.year if form.day.data else _page_year()
    year = year if FIRST_YEAR <= year <= LAST_YEAR else _this_year()
    return _render(year, adjustment_form=form, status=400)


@bp.post("/calendar/adjustments/<int:adjustment_id>/delete")
@auth_required()
def adjustment_delete(adjustment_id: int) -> Any:
    adjustment = get_or_404(CalendarAdjustment, adjustment_id, MANAGE)
    year, day = adjustment.day.year, adjustment.day.isoformat()
    remove_adjustment(adjustment, current_user)
    db.session.commit()
    flash(_("Adjustment for %(day)s removed.", day=day))
    return redirect(_calendar_url(year))


@bp.post("/calendar/confirm", endpoint="confirm_year")
@auth_required()
def confirm_year_post() -> Any:
    require(MANAGE)
    form = ConfirmYearForm()
    if form.validate_on_submit():
        try:
            confirm_year(form.year.data, "staff", form.note.data, current_user)
            db.session.commit()
            flash(_("The holiday arrangements for %(year)s are confirmed.", year=form.year.data))
            return redirect(_calendar_url(form.year.data))
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    year = form.year.data if isinstance(form.year.data, int) else None
    year = year if year and FIRST_YEAR <= year <= LAST_YEAR else _page_year()
    return _render(year, confirm_form=form, status=400)
