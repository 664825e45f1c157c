"""Staff pages for visits: the queue console, visit records, logging a visit, the list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_security import auth_required, current_user
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from workroom.auth.permissions import allowed, get_or_404, require, scoped
from workroom.categories.models import Category
from workroom.clock import local_day_bounds, utcnow
from workroom.db import db
from workroom.errors import DomainError
from workroom.forms import Form
from workroom.listing import id_arg, page_of
from workroom.people.models import Deputy
from workroom.places.models import Workroom
from workroom.visits import queue, records
from workroom.visits.checkin import RECORD_DESCRIPTION_MAX
from workroom.visits.models import CHANNELS, KINDS, OUTCOMES, STATUSES, Visit
from workroom.workdays.calendar import is_working_day

bp = Blueprint("visits", __name__, url_prefix="/staff")

# Console actions on one ticket: URL part → domain function.
TICKET_ACTIONS = {
    "recall": queue.recall,
    "no-show": queue.mark_no_show,
    "start": queue.start,
    "finish": queue.finish,
}
ACTION_DONE = {
    "call": _l("Ticket %(ticket)s called."),
    "recall": _l("Ticket %(ticket)s called again."),
    "no-show": _l("Ticket %(ticket)s: the visitor did not come."),
    "start": _l("Reception of ticket %(ticket)s started."),
    "finish": _l("Ticket %(ticket)s finished. Fill in the record."),
    "transfer": _l("Ticket %(ticket)s transferred."),
}


# Forms


def _outcome_field() -> SelectField:
    return SelectField(
        _l("Outcome"),
        choices=[("", _l("Choose an outcome"))] + list(OUTCOMES.items()),
        validators=[DataRequired(_l("Choose an outcome."))],
    )


class RecordForm(Form):
    summary = TextAreaField(
        _l("Summary"),
        description=_l("What the visitor raised, in a sentence or two."),
        validators=[Length(max=records.SUMMARY_LIMIT)],
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=records.NOTES_LIMIT)])
    outcome = _outcome_field()
    received_by = SelectField(_l("Received by"), validate_choice=False)


class LogVisitForm(RecordForm):
    channel = SelectField(
        _l("How the visitor reached the workroom"),
        choices=[(c, CHANNELS[c]) for c in records.LOGGED_CHANNELS],
    )
    category_id = SelectField(
        _l("Category"),
        coerce=int,
        validators=[DataRequired(_l("Choose a category."))],
    )
    name = StringField(
        _l("Visitor's name"),
        description=_l("Optional: the visitor may stay anonymous."),
        validators=[Length(max=50)],
    )
    phone = StringField(
        _l("Phone"),
        description=_l("Optional: giving one means the visitor wants a reply."),
        validators=[Length(max=30)],
    )
    description = TextAreaField(
        _l("What the visitor said"),
        validators=[Length(max=RECORD_DESCRIPTION_MAX)],
    )


def _category_choices() -> list[tuple[int, str]]:
    categories = db.session.scalars(
        sa.select(Category)
        .where(Category.active.is_(True))
        .options(selectinload(Category.parent))
        .order_by(Category.position, Category.code)
    ).all()
    tops = sorted((c for c in categories if c.parent_id is None), key=lambda c: c.position)
    choices: list[tuple[int, str]] = [(0, _("Choose a category"))]
    for top in tops:
        choices.append((top.id, top.label))
        for child in categories:
            if child.parent_id == top.id:
                choices.append((child.id, f"{top.label} / {child.label}"))
    return choices


# Access


def _can(visit: Visit, permission: str) -> bool:
    stmt = scoped(sa.select(Visit.id).where(Visit.id == visit.id), Visit, permission)
    return db.session.scalar(stmt) is not None


def _deputy_arg(workroom: Workroom, value: str | None) -> Deputy | None:
    """A deputy attached to the workroom from a "deputy:<id>" value; None for the liaison."""
    value = (value or "").strip()
    if not value or value == records.LIAISON:
        return None
    try:
        return records.parse_receiver(workroom, value, "deputy_id")
    except DomainError:
        abort(400)


# The console


def _console(workroom: Workroom, error: DomainError | None = None) -> Any:
    now = utcnow()
    today = queue.todays_queue(workroom, now)
    user = current_user._get_current_object()
    my_deputy = queue.actor_deputy_id(user)
    my_duty = next((e for e in today.duty if e.deputy.id == my_deputy), None)
    visits = today.waiting + today.serving
    return render_template(
        "visits/console.html",
        workroom=workroom,
        queue=today,
        now=now,
        waits={v.id: queue.wait_minutes(v, now) for v in visits},
        returning=records.earlier_visit_counts(visits, user),
        can_manage=allowed("visit.manage"),
        can_act=allowed("visit.manage") and queue.may_act(workroom, user, now),
        is_staff=queue.acts_as_staff(user, workroom),
        my_duty=my_duty,
        outcomes=OUTCOMES,
        refresh_seconds=int(current_app.config.get("CONSOLE_REFRESH_SECONDS", 30)),
        open_count=db.session.scalar(
            sa.select(sa.func.count(Visit.id)).where(
                Visit.workroom_id == workroom.id, Visit.status == "open"
            )
        ),
        error=error,
    ), (error.status if error else 200)


@bp.get("/workrooms/<int:workroom_id>/queue")
@auth_required()
def console(workroom_id: int) -> Any:
    workroom = get_or_404(Workroom, workroom_id, "workroom.view")
    require("visit.view")
    return _console(workroom)


@bp.post("/workrooms/<int:workroom_id>/queue/arrive")
@auth_required()
def arrive(workroom_id: int) -> Any:
    """A deputy signs in on arrival (or the liaison records it for them)."""
    workroom = get_or_404(Workroom, workroom_id, "visit.manage")
    user = current_user._get_current_object()
    deputy = _deputy_arg(workroom, request.form.get("deputy_id"))
    own = queue.actor_deputy_id(user)
    if deputy is None and own:
        deputy = db.session.get(Deputy, own)
    if deputy is None:
        abort(400)
    name = deputy.name
    try:
        queue.sign_in(workroom, deputy, user, utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _console(workroom, error)
    flash(_("%(name)s signed in.", name=name))
    return redirect(url_for("visits.console", workroom_id=workroom.id), 303)


@bp.post("/workrooms/<int:workroom_id>/queue/call")
@auth_required()
def call_next(workroom_id: int) -> Any:
    workroom = get_or_404(Workroom, workroom_id, "visit.manage")
    deputy = _deputy_arg(workroom, request.form.get("deputy_id"))
    user = current_user._get_current_object()
    try:
        visit = queue.call_next(workroom, user, utcnow(), deputy)
        label = visit.ticket_label
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _console(workroom, error)
    flash(str(ACTION_DONE["call"]) % {"ticket": label})
    return redirect(url_for("visits.console", workroom_id=workroom.id), 303)


def _ticket_action(visit_id: int, action: str) -> Any:
    """Run one console action on a ticket, then go back to the console (or show why not)."""
    visit = get_or_404(Visit, visit_id, "visit.manage")
    workroom = visit.workroom
    user = current_user._get_current_object()
    now = utcnow()
    try:
        if action == "transfer":
            queue.check_may_act(workroom, user, now)
            target = request.form.get("to") or ""
            if not target:
                raise DomainError(_l("Choose where to send the visitor."), "to")
            queue.transfer(visit, user, now, _deputy_arg(workroom, target))
        else:
            TICKET_ACTIONS[action](visit, user, now)
        label = visit.ticket_label or ""
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _console(workroom, error)
    flash(str(ACTION_DONE[action]) % {"ticket": label})
    if action == "finish":
        return redirect(url_for("visits.record", visit_id=visit.id), 303)
    return redirect(url_for("visits.console", workroom_id=workroom.id), 303)


@bp.post("/visits/<int:visit_id>/recall")
@auth_required()
def recall(visit_id: int) -> Any:
    return _ticket_action(visit_id, "recall")


@bp.post("/visits/<int:visit_id>/no-show")
@auth_required()
def no_show(visit_id: int) -> Any:
    return _ticket_action(visit_id, "no-show")


@bp.post("/visits/<int:visit_id>/start")
@auth_required()
def start(visit_id: int) -> Any:
    return _ticket_action(visit_id, "start")


@bp.post("/visits/<int:visit_id>/finish")
@auth_required()
def finish(visit_id: int) -> Any:
    return _ticket_action(visit_id, "finish")


@bp.post("/visits/<int:visit_id>/transfer")
@auth_required()
def transfer(visit_id: int) -> Any:
    return _ticket_action(visit_id, "transfer")


# The record


def _record_page(visit: Visit, form: RecordForm, revealed: str | None = None, status: int = 200):
    user = current_user._get_current_object()
    return render_template(
        "visits/record.html",
        visit=visit,
        form=form,
        can_edit=_can(visit, "visit.manage"),
        can_reveal=bool(visit.phone) and _can(visit, "visit.reveal"),
        revealed=revealed,
        history=records.visitor_history(visit, user),
        channels=CHANNELS,
        kinds=KINDS,
        statuses=STATUSES,
        outcomes=OUTCOMES,
    ), status


def _record_form(visit: Visit, formdata: Any = None) -> RecordForm:
    user = current_user._get_current_object()
    form = RecordForm(formdata=formdata, obj=visit, received_by=records.receiver_value(visit, user))
    form.received_by.choices = records.receiver_choices(visit.workroom)
    return form


@bp.route("/visits/<int:visit_id>", methods=["GET", "POST"])
@auth_required()
def record(visit_id: int) -> Any:
    visit = get_or_404(Visit, visit_id, "visit.view")
    if request.method == "POST":
        if not _can(visit, "visit.manage"):
            abort(404)
        form = _record_form(visit, request.form)
        if form.validate():
            try:
                records.save_record(
                    visit,
                    summary=form.summary.data,
                    notes=form.notes.data,
                    outcome=form.outcome.data,
                    receiver=records.parse_receiver(visit.workroom, form.received_by.data),
                    actor=current_user._get_current_object(),
                    now=utcnow(),
                )
                db.session.commit()
                flash(_("Record saved."))
                return redirect(url_for("visits.record", visit_id=visit.id), 303)
            except DomainError as error:
                db.session.rollback()
                form.add_error(error)
        return _record_page(visit, form, status=400)
    return _record_page(visit, _record_form(visit))


@bp.post("/visits/<int:visit_id>/reveal")
@auth_required()
def reveal(visit_id: int) -> Any:
    """Show the full number once, in this response only (never in a URL or a GET)."""
    visit = get_or_404(Visit, visit_id, "visit.reveal")
    try:
        number = records.reveal_phone(visit, current_user._get_current_object(), utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("visits.record", visit_id=visit.id), 303)
    return _record_page(visit, _record_form(visit), revealed=number)


# Logging a visit


@bp.route("/workrooms/<int:workroom_id>/visits/new", methods=["GET", "POST"])
@auth_required()
def log_new(workroom_id: int) -> Any:
    workroom = get_or_404(Workroom, workroom_id, "workroom.view")
    require("visit.manage")
    user = current_user._get_current_object()
    form = LogVisitForm(received_by=records.receiver_value(None, user))
    form.category_id.choices = _category_choices()
    form.received_by.choices = records.receiver_choices(workroom)
    now = utcnow()
    if form.validate_on_submit():
        try:
            category = db.session.get(Category, form.category_id.data)
            if category is None or not category.active:
                raise DomainError(_l("Choose a category."), "category_id")
            visit = records.log_visit_record(
                workroom,
                channel=form.channel.data,
                category=category,
                name=form.name.data,
                phone=form.phone.data,
                description=form.description.data,
                summary=form.summary.data,
                notes=form.notes.data,
                outcome=form.outcome.data,
                receiver=records.parse_receiver(workroom, form.received_by.data),
                actor=user,
                now=now,
            )
            db.session.commit()
            flash(_("Visit logged."))
            return redirect(url_for("visits.record", visit_id=visit.id), 303)
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    return render_template(
        "visits/log_form.html",
        workroom=workroom,
        form=form,
        working_day=is_working_day(queue.local_date(now)),
    ), 400 if form.errors else 200


# The list


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/visits")
@auth_required()
def index() -> Any:
    require("visit.view")
    workrooms = db.session.scalars(
        scoped(sa.select(Workroom), Workroom, "visit.view").order_by(Workroom.name)
    ).all()
    stmt = scoped(sa.select(Visit), Visit, "visit.view")
    workroom_id = id_arg("workroom")
    channel = request.args.get("channel", "")
    status = request.args.get("status", "")
    category_id = id_arg("category")
    since, until = _date_arg("since"), _date_arg("until")
    if workroom_id:
        stmt = stmt.where(Visit.workroom_id == workroom_id)
    if channel in CHANNELS:
        stmt = stmt.where(Visit.channel == channel)
    if status in STATUSES:
        stmt = stmt.where(Visit.status == status)
    if category_id:
        # A top-level category also finds its sub-categories.
        children = sa.select(Category.id).where(Category.parent_id == category_id)
        stmt = stmt.where(sa.or_(Visit.category_id == category_id, Visit.category_id.in_(children)))
    if since:
        stmt = stmt.where(Visit.arrived_at >= local_day_bounds(since)[0])
    if until:
        stmt = stmt.where(Visit.arrived_at < local_day_bounds(until)[1])
    page = page_of(
        stmt.options(
            selectinload(Visit.workroom), selectinload(Visit.category), selectinload(Visit.deputy)
        ).order_by(Visit.arrived_at.desc(), Visit.id.desc())
    )
    return render_template(
        "visits/index.html",
        page=page,
        workrooms=workrooms,
        categories=_category_choices()[1:],
        channels=CHANNELS,
        statuses=STATUSES,
        outcomes=OUTCOMES,
        filters={
            "workroom": workroom_id,
            "channel": channel,
            "status": status,
            "category": category_id,
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
        },
    )
