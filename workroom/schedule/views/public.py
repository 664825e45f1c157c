"""Public pages of the schedule: a workroom's page with its QR code, the printable notice,
calendar feeds, deputies' replies to reminders, and the page for a deputy's feed link."""

from __future__ import annotations

import io
from typing import Any

import segno
import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_security import auth_required, current_user

from workroom.auth.permissions import get_or_404
from workroom.clock import utcnow
from workroom.db import db
from workroom.errors import DomainError
from workroom.forms import Form
from workroom.i18n import normalize_locale
from workroom.people.models import Deputy
from workroom.places.models import Workroom
from workroom.schedule import deputy_days, feeds
from workroom.schedule.reminders import assignment_for_link, reply_window_open
from workroom.schedule.tokens import public_url

bp = Blueprint("public", __name__)

CALENDAR_TYPE = "text/calendar; charset=utf-8"


class ConfirmForm(Form):
    """A button that posts with the CSRF token."""


def _workroom(slug: str) -> Workroom:
    workroom = db.session.scalar(
        sa.select(Workroom).where(Workroom.slug == slug, Workroom.active.is_(True))
    )
    if workroom is None:
        abort(404)
    return workroom


def _hours(workroom: Workroom) -> str:
    try:
        ranges = workroom.hour_ranges()
    except DomainError:
        return workroom.liaison_hours
    return ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in ranges)


def _page_url(workroom: Workroom) -> str:
    return public_url("public.workroom", slug=workroom.slug)


@bp.get("/w")
def index() -> Any:
    workrooms = db.session.scalars(
        sa.select(Workroom).where(Workroom.active.is_(True)).order_by(Workroom.name)
    ).all()
    return render_template("public/index.html", workrooms=workrooms)


@bp.get("/w/<slug>")
def workroom(slug: str) -> Any:
    room = _workroom(slug)
    days = [feeds.day_view(d) for d in feeds.upcoming_days(room, utcnow())]
    return render_template(
        "public/workroom.html",
        workroom=room,
        days=days,
        hours=_hours(room),
        page_url=_page_url(room),
        weeks=feeds.PAGE_WEEKS,
    )


@bp.get("/w/<slug>/qr.svg")
def qr(slug: str) -> Any:
    """The QR code of the page's public address (from PUBLIC_URL, never the request)."""
    room = _workroom(slug)
    code = segno.make(_page_url(room), error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out, kind="svg", xmldecl=False, svgns=True, scale=8, border=4, dark="#000", light="#fff"
    )
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/w/<slug>/notice")
def notice(slug: str) -> Any:
    room = _workroom(slug)
    day = feeds.next_published_day(room, utcnow())
    return render_template(
        "public/notice.html",
        workroom=room,
        view=feeds.day_view(day) if day else None,
        hours=_hours(room),
        page_url=_page_url(room),
    )


def _feed_locale() -> str:
    # Calendar apps rarely send a language: Chinese unless ?lang= asks otherwise.
    return normalize_locale(request.args.get("lang")) or current_app.config.get(
        "BABEL_DEFAULT_LOCALE", "zh_Hans_CN"
    )


def _calendar_response(body: bytes, filename: str, cache: str) -> Response:
    response = Response(body, content_type=CALENDAR_TYPE)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = cache
    return response


@bp.get("/w/<slug>/schedule.ics")
def feed(slug: str) -> Any:
    room = _workroom(slug)
    with force_locale(_feed_locale()):
        body = feeds.workroom_calendar(room, utcnow())
    return _calendar_response(body, f"{room.slug}.ics", "public, max-age=300")


@bp.get("/feeds/deputy/<token>.ics")
def deputy_feed(token: str) -> Any:
    deputy = feeds.deputy_for_feed_token(token)
    if deputy is None:
        abort(404)
    with force_locale(_feed_locale()):
        body = feeds.deputy_calendar(deputy, utcnow())
    return _calendar_response(body, "reception-days.ics", "private, max-age=300")


# Any path under /r/ reaches the view: a link a mail client cut or extended (a "/" or
# an encoded slash in it) gets the same page as every other link that does not work.
# Two rules: the default converter takes no "/", the path converter no line break.
@bp.route("/r/<token>", methods=["GET", "POST"])
@bp.route("/r/<path:token>", methods=["GET", "POST"])
def respond(token: str) -> Any:
    """A deputy's reply to a reminder: the day, and a button to confirm or decline.

    Every link that opens nothing (forged, damaged, too old, its assignment gone)
    gets one page, 404, that does not say which.
    """
    opened = assignment_for_link(token)
    if opened is None:
        return render_template("public/respond.html", assignment=None), 404
    assignment, action = opened
    form = ConfirmForm()
    status = 200
    if form.validate_on_submit():
        try:
            changed = deputy_days.respond(assignment, action, utcnow())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
            status = error.status
        else:
            if changed and action == "confirm":
                flash(_("Thank you: your attendance is confirmed."))
            elif changed:
                flash(_("Thank you: the liaison will find a substitute."))
            return redirect(url_for("public.respond", token=token))
    elif request.method == "POST":
        status = 400
    now = utcnow()
    return render_template(
        "public/respond.html",
        assignment=assignment,
        action=action,
        form=form,
        view=feeds.day_view(assignment.reception_day),
        reply_open=reply_window_open(assignment, now),
        page_url=_page_url(assignment.reception_day.workroom),
    ), status


def _may_manage_feed(deputy: Deputy) -> bool:
    role = current_user.role
    return role == "admin" or (role == "deputy" and current_user.deputy_id == deputy.id)


@bp.route("/staff/deputies/<int:deputy_id>/feed", methods=["GET", "POST"])
@auth_required()
def deputy_feed_manage(deputy_id: int) -> Any:
    """A deputy's private calendar link: issued or revoked by the deputy or an admin."""
    deputy = get_or_404(Deputy, deputy_id, "deputy.view")
    can_manage = _may_manage_feed(deputy)
    form = ConfirmForm()
    new_url = None
    status = 200
    if request.method == "POST":
        if not can_manage:
            abort(403)
        if not form.validate_on_submit():
            status = 400
        elif request.form.get("action") == "issue":
            token = feeds.issue_feed_token(deputy, utcnow())
            db.session.commit()
            new_url = public_url("public.deputy_feed", token=token)
        elif request.form.get("action") == "revoke":
            if feeds.revoke_feed_token(deputy, utcnow()):
                flash(_("The calendar link was revoked. It no longer works."))
            db.session.commit()
            return redirect(url_for("public.deputy_feed_manage", deputy_id=deputy.id))
        else:
            abort(400)
    return render_template(
        "public/deputy_feed_manage.html",
        deputy=deputy,
        live=feeds.live_feed_token(deputy),
        new_url=new_url,
        can_manage=can_manage,
        form=form,
    ), status
