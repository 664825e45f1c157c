"""The agency portal (/agency): an agency handler's work list and the agency's steps.

A handler sees only suggestions its agency handles, as lead or co-handler; anything
else answers 404 and the attempt is written to the audit log. The citizens of a
confidential suggestion (为本人保密) are never shown here, nor their files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import auth_required

from workroom.auth.permissions import require
from workroom.clock import local_date, utcnow
from workroom.db import db
from workroom.errors import Conflict, DomainError
from workroom.listing import page_of
from workroom.suggestions import attachments, lifecycle
from workroom.suggestions.forms import (
    AcceptForm,
    ExtensionRequestForm,
    OpinionForm,
    ReplyForm,
    ReturnForm,
)
from workroom.suggestions.models import STATUSES, Attachment, Suggestion, SuggestionAgency
from workroom.suggestions.queries import suggestions_query
from workroom.suggestions.views.staff import (
    DEADLINE_LABELS,
    DEADLINE_TAGS,
    EXPORT_FORMATS,
    PORTAL_FILTERS,
    actor,
    calendar_around,
    detail_lookups,
    export_response,
    form_step,
    list_filter,
    list_options,
    scoped_suggestion,
)

bp = Blueprint("portal", __name__, url_prefix="/agency")


def _handled(suggestion_id: int) -> Suggestion:
    return scoped_suggestion(suggestion_id, "suggestion.handle")


def _agency() -> Any:
    return actor().agency


def _link(s: Suggestion) -> SuggestionAgency | None:
    agency_id = actor().agency_id
    return next((link for link in s.agencies if link.agency_id == agency_id), None)


@bp.get("")
@auth_required()
def index() -> Any:
    require("suggestion.handle")
    today = local_date(utcnow())
    calendar = calendar_around(today)
    filters = list_filter(PORTAL_FILTERS, agency_id=actor().agency_id)
    stmt = suggestions_query(
        filters, user=actor(), permission="suggestion.handle", today=today, calendar=calendar
    )
    fmt = request.args.get("format", "")
    if fmt in EXPORT_FORMATS:
        return export_response(stmt, fmt, hide_confidential=True, today=today, calendar=calendar)
    page = page_of(stmt.options(*list_options()))
    roles = dict(
        db.session.execute(
            sa.select(SuggestionAgency.suggestion_id, SuggestionAgency.role).where(
                SuggestionAgency.agency_id == actor().agency_id,
                SuggestionAgency.suggestion_id.in_([s.id for s in page.items] or [0]),
            )
        ).all()
    )
    return render_template(
        "portal/index.html",
        page=page,
        filters=filters,
        roles=roles,
        states={s.id: lifecycle.deadline_state(s, today, calendar) for s in page.items},
        statuses=STATUSES,
        deadline_labels=DEADLINE_LABELS,
        deadline_tags=DEADLINE_TAGS,
        agency=_agency(),
    )


def _forms(s: Suggestion, link: SuggestionAgency | None) -> dict[str, Any]:
    """Empty forms of the steps this agency may take on ``s`` now."""
    forms: dict[str, Any] = {}
    if link is None:
        return forms
    if link.role == "lead":
        if s.status == "assigned":
            forms["accept"] = AcceptForm(formdata=None, prefix="accept")
        if s.status == "accepted":
            forms["reply"] = ReplyForm(formdata=None, prefix="reply")
        if s.status in lifecycle.OPEN:
            if s.extensions_used == 0 and not any(
                r.status == "pending" for r in s.extension_requests
            ):
                forms["extension"] = ExtensionRequestForm(formdata=None, prefix="extension")
            forms["return"] = ReturnForm(formdata=None, prefix="return")
    elif s.status in lifecycle.OPEN:
        forms["opinion"] = OpinionForm(formdata=None, prefix="opinion", opinion=link.opinion)
    return forms


def _detail_page(
    s: Suggestion,
    *,
    forms: dict[str, Any] | None = None,
    status: int = 200,
    conflict: str | None = None,
) -> Any:
    link = _link(s)
    agency_id = actor().agency_id
    all_forms = {**_forms(s, link), **(forms or {})}
    citizens = list(s.citizens) if s.status == "merged" else lifecycle.group_citizens(s)
    files = [
        a for a in attachments.attachments_of(s) if attachments.agency_may_see(a, s, agency_id)
    ]
    return render_template(
        "portal/detail.html",
        s=s,
        link=link,
        citizens=citizens,
        files=files,
        forms=all_forms,
        conflict=conflict,
        state=lifecycle.deadline_state(s, local_date(utcnow())),
        **detail_lookups(),
    ), status


def _done(s: Suggestion, message: str) -> Any:
    flash(message)
    return redirect(url_for("portal.detail", suggestion_id=s.id), 303)


def _step(s: Suggestion, name: str, form: Any, step: Callable[[], str]) -> Any:
    return form_step(s, name, form, step, page=_detail_page, done=_done)


def _returned(s: Suggestion, message: str) -> Any:
    # Returned, it is no longer this agency's: back to the work list.
    flash(message)
    return redirect(url_for("portal.index"), 303)


@bp.get("/suggestions/<int:suggestion_id>")
@auth_required()
def detail(suggestion_id: int) -> Any:
    return _detail_page(_handled(suggestion_id))


@bp.post("/suggestions/<int:suggestion_id>/accept")
@auth_required()
def accept(suggestion_id: int) -> Any:
    s = _handled(suggestion_id)
    form = AcceptForm(formdata=request.form, prefix="accept")

    def step() -> str:
        lifecycle.accept(s, agency=_agency(), now=utcnow(), actor=actor())
        return _("Suggestion accepted.")

    return _step(s, "accept", form, step)


@bp.post("/suggestions/<int:suggestion_id>/reply")
@auth_required()
def reply(suggestion_id: int) -> Any:
    s = _handled(suggestion_id)
    form = ReplyForm(prefix="reply")
    forms = {"reply": form}
    if not form.validate_on_submit():
        return _detail_page(s, forms=forms, status=400)
    stored: list[Attachment] = []
    try:
        letter = attachments.read_upload(form.letter.data, "letter")
        now = utcnow()
        lifecycle.reply(
            s,
            agency=_agency(),
            text=form.text.data,
            reply_class=form.reply_class.data,
            now=now,
            actor=actor(),
        )
        if letter is not None:
            stored.append(
                attachments.store(s, letter, kind="reply", now=now, actor=actor(), agency=_agency())
            )
        db.session.commit()
    except Conflict as error:
        db.session.rollback()
        attachments.remove_files(stored)
        return _detail_page(s, status=409, conflict=str(error.message))
    except DomainError as error:
        db.session.rollback()
        attachments.remove_files(stored)
        form.add_error(error)
        return _detail_page(s, forms=forms, status=400)
    return _done(s, _("Answer sent."))


@bp.post("/suggestions/<int:suggestion_id>/extension")
@auth_required()
def request_extension(suggestion_id: int) -> Any:
    s = _handled(suggestion_id)
    form = ExtensionRequestForm(formdata=request.form, prefix="extension")

    def step() -> str:
        lifecycle.request_extension(
            s,
            agency=_agency(),
            requested_due=form.requested_due.data,
            reason=form.reason.data,
            now=utcnow(),
            actor=actor(),
        )
        return _("Extension requested. The staff will decide.")

    return _step(s, "extension", form, step)


@bp.post("/suggestions/<int:suggestion_id>/return")
@auth_required()
def return_misassigned(suggestion_id: int) -> Any:
    s = _handled(suggestion_id)
    form = ReturnForm(formdata=request.form, prefix="return")

    def step() -> str:
        lifecycle.return_misassigned(
            s, agency=_agency(), reason=form.reason.data, now=utcnow(), actor=actor()
        )
        return _("Suggestion %(code)s returned.", code=s.tracking_code)

    return form_step(s, "return", form, step, page=_detail_page, done=_returned)


@bp.post("/suggestions/<int:suggestion_id>/opinion")
@auth_required()
def opinion(suggestion_id: int) -> Any:
    s = _handled(suggestion_id)
    form = OpinionForm(formdata=request.form, prefix="opinion")

    def step() -> str:
        lifecycle.co_opinion(
            s, agency=_agency(), opinion=form.opinion.data, now=utcnow(), actor=actor()
        )
        return _("Opinion sent to the lead agency.")

    return _step(s, "opinion", form, step)
