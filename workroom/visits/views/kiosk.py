"""Citizens' check-in pages (the paired kiosk and the phone page behind the poster's QR
code), kiosk pairing, and the admin pages that register and revoke kiosks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_security import auth_required
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from workroom import throttle
from workroom.auth.permissions import get_or_404, require
from workroom.categories.models import Category
from workroom.clock import to_local, utcnow
from workroom.db import db, writing
from workroom.errors import DomainError
from workroom.forms import Form
from workroom.i18n import DEFAULT_LOCALE, normalize_locale
from workroom.places.models import Workroom
from workroom.visits import kiosk_auth
from workroom.visits.duty import next_reception, reception_now
from workroom.visits.models import Kiosk
from workroom.visits.privacy_notice import privacy_notice

bp = Blueprint("kiosk", __name__)

DEFAULT_IDLE_SECONDS = 90
DEFAULT_IDLE_WARNING_SECONDS = 30
# The warning always leaves at least this long to tap "continue".
MINIMUM_WARNING_SECONDS = 20
DEFAULT_PAIR_LIMIT = "10 per 15 minutes"
# How stale last_seen_at may get before a page load writes it again.
_SEEN_INTERVAL = dt.timedelta(minutes=5)


class KioskForm(Form):
    name = StringField(
        _l("Name"),
        description=_l("Where the tablet stands, e.g. Entrance tablet."),
        validators=[DataRequired(_l("Enter a name.")), Length(max=60)],
    )
    workroom_id = SelectField(_l("Workroom"), coerce=int)


class PairForm(Form):
    code = StringField(
        _l("Pairing code"),
        description=_l("The code shown to the administrator, e.g. ABCD-EFGH."),
        validators=[DataRequired(_l("Enter the pairing code.")), Length(max=20)],
    )


# Check-in pages


def _top_categories() -> list[Category]:
    return list(
        db.session.scalars(
            sa.select(Category)
            .where(Category.parent_id.is_(None), Category.active)
            .order_by(Category.position, Category.id)
        )
    )


def _closed_notes(workroom: Workroom, now: dt.datetime) -> list[str]:
    """When the workroom next receives, for a visitor arriving while it does not."""
    upcoming = next_reception(workroom, now)
    notes = []
    if upcoming.reception_day is not None:
        start = to_local(upcoming.reception_day.starts_at)
        end = to_local(upcoming.reception_day.ends_at)
        notes.append(
            _(
                "Next reception day: %(date)s, %(start)s to %(end)s.",
                date=format_date(start.date(), "full"),
                start=f"{start:%H:%M}",
                end=f"{end:%H:%M}",
            )
        )
    if upcoming.liaison_hours:
        notes.append(
            _(
                "Liaison hours on working days: %(hours)s.",
                hours=upcoming.liaison_hours.replace(",", ", "),
            )
        )
    return notes


def _render_checkin(
    workroom: Workroom, *, channel: str, start_url: str, lang_urls: dict[str, str], **extra: Any
) -> str:
    now = utcnow()
    reception = reception_now(workroom, now)
    return render_template(
        "kiosk/checkin.html",
        workroom=workroom,
        channel=channel,
        categories=_top_categories(),
        receiving=reception.receiving,
        closed_notes=[] if reception.receiving else _closed_notes(workroom, now),
        api_url=url_for("api.create_checkin", slug=workroom.slug),
        start_url=start_url,
        lang_urls=lang_urls,
        privacy=privacy_notice(),
        **extra,
    )


def _idle_settings() -> dict[str, int]:
    idle = int(current_app.config.get("KIOSK_IDLE_SECONDS", DEFAULT_IDLE_SECONDS))
    warning = int(
        current_app.config.get("KIOSK_IDLE_WARNING_SECONDS", DEFAULT_IDLE_WARNING_SECONDS)
    )
    return {"idle_seconds": max(idle, 1), "warning_seconds": max(warning, MINIMUM_WARNING_SECONDS)}


def _set_credential_cookie(response: Any, credential: str) -> None:
    response.set_cookie(
        kiosk_auth.COOKIE_NAME,
        credential,
        max_age=kiosk_auth.COOKIE_MAX_AGE,
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        samesite="Lax",
    )


def _note_seen(kiosk: Kiosk, now: dt.datetime) -> None:
    if kiosk.last_seen_at is not None and now - kiosk.last_seen_at < _SEEN_INTERVAL:
        return
    kiosk_id = kiosk.id
    with writing():
        fresh = db.session.get(Kiosk, kiosk_id)
        if fresh is not None:
            fresh.last_seen_at = now
        db.session.commit()


@bp.get("/kiosk")
def kiosk_checkin() -> Any:
    """The kiosk's check-in page; a tablet without a valid credential goes to pairing."""
    token = request.cookies.get(kiosk_auth.COOKIE_NAME)
    kiosk = kiosk_auth.verify_kiosk_credential(token)
    if kiosk is None:
        target = url_for("kiosk.pair", revoked=1) if token else url_for("kiosk.pair")
        response = redirect(target)
        if token:
            response.delete_cookie(kiosk_auth.COOKIE_NAME)
        return response
    _note_seen(kiosk, utcnow())
    kiosk = db.session.get(Kiosk, kiosk.id)
    # Chinese unless this visitor chose English; the idle reset returns to Chinese.
    locale = normalize_locale(request.args.get("lang")) or DEFAULT_LOCALE
    start_url = url_for("kiosk.kiosk_checkin")
    with force_locale(locale):
        html = _render_checkin(
            kiosk.workroom,
            channel="kiosk",
            kiosk=kiosk,
            credential=token,
            start_url=start_url,
            lang_urls={"zh_Hans_CN": start_url, "en": url_for("kiosk.kiosk_checkin", lang="en")},
            pair_url=url_for("kiosk.pair", revoked=1),
            **_idle_settings(),
        )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    # Renewed on every load: browsers cap cookie lifetimes.
    _set_credential_cookie(response, str(token))
    return response


@bp.get("/w/<slug>/checkin")
def phone_checkin(slug: str) -> Any:
    """The same check-in in the citizen's own browser, reached from the poster's QR code."""
    workroom = db.session.scalar(
        sa.select(Workroom).where(Workroom.slug == slug[:60], Workroom.active)
    )
    if workroom is None:
        abort(404)
    start_url = url_for("kiosk.phone_checkin", slug=workroom.slug)
    return _render_checkin(
        workroom,
        channel="phone",
        start_url=start_url,
        lang_urls={
            "zh_Hans_CN": url_for("kiosk.phone_checkin", slug=workroom.slug, lang="zh_Hans_CN"),
            "en": url_for("kiosk.phone_checkin", slug=workroom.slug, lang="en"),
        },
    )


def _pair_throttled() -> bool:
    limit = current_app.config.get("KIOSK_PAIR_LIMIT", DEFAULT_PAIR_LIMIT)
    return throttle.hit(limit, "kiosk-pair", request.remote_addr or "") is not None


@bp.route("/kiosk/pair", methods=["GET", "POST"])
def pair() -> Any:
    """Where a tablet enters its one-time pairing code and receives its credential."""
    token = request.cookies.get(kiosk_auth.COOKIE_NAME)
    current = kiosk_auth.verify_kiosk_credential(token)
    form = PairForm()
    if form.validate_on_submit():
        if _pair_throttled():
            abort(429)
        try:
            kiosk, credential = kiosk_auth.pair_kiosk(form.code.data, utcnow())
            db.session.commit()
            response = redirect(url_for("kiosk.kiosk_checkin"))
            _set_credential_cookie(response, credential)
            return response
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    response = make_response(
        render_template(
            "kiosk/pair.html",
            form=form,
            current=current,
            revoked=current is None and (bool(token) or bool(request.args.get("revoked"))),
        ),
        400 if form.errors else 200,
    )
    if token and current is None:
        response.delete_cookie(kiosk_auth.COOKIE_NAME)
    return response


# Admin pages


@bp.get("/staff/kiosks")
@auth_required()
def kiosks() -> Any:
    require("kiosk.manage")
    rows = db.session.scalars(
        sa.select(Kiosk).join(Kiosk.workroom).order_by(Workroom.name, Kiosk.id)
    ).all()
    now = utcnow()
    return render_template(
        "kiosk/kiosks.html",
        kiosks=rows,
        pairing_open={k.id: kiosk_auth.pairing_open(k, now) for k in rows},
    )


def _workroom_choices() -> list[tuple[int, str]]:
    rooms = db.session.scalars(
        sa.select(Workroom).where(Workroom.active).order_by(Workroom.name)
    ).all()
    return [(0, _("Choose a workroom"))] + [(w.id, w.name) for w in rooms]


def _pairing_code_page(kiosk: Kiosk, code: str) -> Any:
    response = make_response(
        render_template(
            "kiosk/pairing_code.html",
            kiosk=kiosk,
            code=kiosk_auth.format_pairing_code(code),
            pair_url=current_app.config["PUBLIC_URL"] + url_for("kiosk.pair"),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/staff/kiosks/new", methods=["GET", "POST"])
@auth_required()
def kiosk_new() -> Any:
    require("kiosk.manage")
    form = KioskForm()
    form.workroom_id.choices = _workroom_choices()
    if form.validate_on_submit():
        try:
            workroom = db.session.get(Workroom, form.workroom_id.data)
            kiosk, code = kiosk_auth.register_kiosk(workroom, form.name.data, utcnow())
            db.session.commit()
            return _pairing_code_page(kiosk, code)
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    return render_template("kiosk/kiosk_form.html", form=form), 400 if form.errors else 200


@bp.post("/staff/kiosks/<int:kiosk_id>/pairing-code")
@auth_required()
def kiosk_pairing_code(kiosk_id: int) -> Any:
    kiosk = get_or_404(Kiosk, kiosk_id, "kiosk.manage")
    try:
        code = kiosk_auth.new_pairing_code(kiosk, utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("kiosk.kiosks"))
    db.session.commit()
    return _pairing_code_page(kiosk, code)


@bp.post("/staff/kiosks/<int:kiosk_id>/revoke")
@auth_required()
def kiosk_revoke(kiosk_id: int) -> Any:
    kiosk = get_or_404(Kiosk, kiosk_id, "kiosk.manage")
    kiosk_auth.revoke_kiosk(kiosk, utcnow())
    db.session.commit()
    flash(_("Kiosk %(name)s revoked. The tablet must be paired again.", name=kiosk.name))
    return redirect(url_for("kiosk.kiosks"))
