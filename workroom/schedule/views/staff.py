"""Staff pages of the reception schedule: rules, generate → preview → publish, changes
to a day, swap requests, and a deputy's own days."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from babel.dates import format_skeleton
from dateutil.relativedelta import relativedelta
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_security import auth_required, current_user
from sqlalchemy.orm import selectinload

from workroom.auth.permissions import ALL, allowed, get_or_404, require, scope_for, scoped
from workroom.clock import local_date, utcnow
from workroom.db import db
from workroom.errors import Conflict, DomainError
from workroom.forms import render_form, save
from workroom.people.models import Deputy
from workroom.places.models import Workroom
from workroom.schedule import changes, deputy_days, periods, reception_rules
from workroom.schedule.feeds import time_window
from workroom.schedule.forms import (
    AddDeputyForm,
    ApproveSwapForm,
    CancelDayForm,
    GenerateForm,
    RefuseSwapForm,
    ReplaceForm,
    RuleForm,
    SwapRequestForm,
)
from workroom.schedule.models import Assignment, ReceptionDay, ReceptionRule, SwapRequest
from workroom.schedule.overview import workroom_schedule, workroom_summaries
from workroom.schedule.rules import build_rrule, describe_policy, parse_rrule

bp = Blueprint("schedule", __name__, url_prefix="/staff")

VIEW = "schedule.view"
MANAGE = "schedule.manage"


def _locale() -> str:
    return str(get_locale() or "zh_Hans_CN")


def _workroom(workroom_id: int, permission: str) -> Workroom:
    require(permission)
    return get_or_404(Workroom, workroom_id, permission)


def _day(day_id: int, permission: str) -> ReceptionDay:
    require(permission)
    return get_or_404(ReceptionDay, day_id, permission)


def _month_caption(day: dt.date) -> str:
    return format_skeleton("yMMMM", day, locale=get_locale())


def _by_month(days: Any) -> list[tuple[str, list[ReceptionDay]]]:
    months: OrderedDict[tuple[int, int], list[ReceptionDay]] = OrderedDict()
    for day in days:
        months.setdefault((day.day.year, day.day.month), []).append(day)
    return [(_month_caption(dt.date(y, m, 1)), rows) for (y, m), rows in months.items()]


def _parse_day(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        abort(400)


def _period_args(source: Any) -> tuple[dt.date, dt.date]:
    start, end = _parse_day(source.get("start")), _parse_day(source.get("end"))
    if end < start or (end - start).days > 366:
        abort(400)
    return start, end


def _is_admin_scope() -> bool:
    return scope_for(current_user, MANAGE) == ALL


# Index and overview


def _require_all_workrooms() -> None:
    """Pages for every workroom at once are for managers whose scope is the whole city."""
    require(MANAGE)
    if not _is_admin_scope():
        abort(403)


@bp.get("/schedule")
@auth_required()
def index() -> Any:
    require(VIEW)
    return render_template(
        "schedule/index.html",
        summaries=workroom_summaries(scoped(sa.select(Workroom), Workroom, VIEW), utcnow()),
        can_manage=allowed(MANAGE),
        all_workrooms=_is_admin_scope(),
        is_deputy=bool(getattr(current_user, "deputy_id", None)),
    )


@bp.get("/workrooms/<int:workroom_id>/schedule")
@auth_required()
def overview(workroom_id: int) -> Any:
    workroom = _workroom(workroom_id, VIEW)
    now = utcnow()
    schedule = workroom_schedule(workroom, now)
    can_manage = allowed(MANAGE) and db.session.scalar(
        scoped(sa.select(Workroom.id).where(Workroom.id == workroom.id), Workroom, MANAGE)
    )
    pending = deputy_days.pending_swaps(workroom, now) if can_manage else []
    return render_template(
        "schedule/overview.html",
        workroom=workroom,
        rules=schedule.rules,
        months=_by_month(schedule.days),
        drafts=schedule.drafts,
        pending=pending,
        can_manage=bool(can_manage),
        locale=_locale(),
        describe_policy=describe_policy,
        time_window=time_window,
    )


# Rules


def _rule_choices(form: RuleForm) -> dict[str, Any]:
    return {
        "kind": form.kind.data,
        "weekdays": form.weekdays.data or [],
        "nth": form.nth.data or [],
        "month_day": [form.month_day.data] if form.month_day.data else [],
    }


def _rule_values(form: RuleForm) -> dict[str, Any]:
    return {
        "rrule": build_rrule(**_rule_choices(form)),
        "starts_at_time": form.starts_at_time.data,
        "ends_at_time": form.ends_at_time.data,
        "deputies_needed": form.deputies_needed.data,
        "capacity": form.capacity.data,
        "valid_from": form.valid_from.data,
        "valid_until": form.valid_until.data,
        "on_non_working_day": form.on_non_working_day.data,
    }


def _render_rule_form(form: RuleForm, workroom: Workroom, rule: ReceptionRule | None) -> Any:
    preview = ""
    if rule is not None:
        preview = rule.describe(_locale())
    return render_form(
        "schedule/rule_form.html", form, workroom=workroom, rule=rule, preview=preview
    )


@bp.route("/workrooms/<int:workroom_id>/rules/new", methods=["GET", "POST"])
@auth_required()
def rule_new(workroom_id: int) -> Any:
    workroom = _workroom(workroom_id, MANAGE)
    form = RuleForm()
    if request.method == "GET":
        form.kind.data = "weekly"
        form.valid_from.data = local_date(utcnow())
    if (
        rule := save(form, lambda: reception_rules.create_rule(workroom, **_rule_values(form)))
    ) is not None:
        flash(_("Rule saved: %(rule)s.", rule=rule.describe(_locale())))
        return redirect(url_for("schedule.overview", workroom_id=workroom.id))
    return _render_rule_form(form, workroom, None)


@bp.route("/reception-rules/<int:reception_rule_id>/edit", methods=["GET", "POST"])
@auth_required()
def rule_edit(reception_rule_id: int) -> Any:
    require(MANAGE)
    rule = get_or_404(ReceptionRule, reception_rule_id, MANAGE)
    workroom = rule.workroom
    if request.method == "GET":
        choices = parse_rrule(rule.rrule).choices()
        month_days = choices["month_day"] or [0]
        form = RuleForm(
            obj=rule,
            kind=choices["kind"],
            weekdays=choices["weekdays"],
            nth=choices["nth"],
            month_day=month_days[0],
        )
    else:
        form = RuleForm()

    def change() -> ReceptionRule:
        reception_rules.update_rule(rule, active=form.active.data, **_rule_values(form))
        return rule

    if save(form, change) is not None:
        flash(_("Rule saved: %(rule)s.", rule=rule.describe(_locale())))
        return redirect(url_for("schedule.overview", workroom_id=workroom.id))
    return _render_rule_form(form, workroom, rule)


# Generate, preview, publish


def _acknowledged(form: GenerateForm) -> list[int]:
    if not form.acknowledge.data:
        return []
    years = []
    for part in (form.acknowledged_years.data or "").split(","):
        if part.strip().isdigit():
            years.append(int(part))
    return years


def _generate(workroom: Workroom | None) -> Any:
    form = GenerateForm()
    now = utcnow()
    if request.method == "GET":
        form.start_month.data = local_date(now).replace(day=1) + relativedelta(months=1)
        form.length.data = 1
    if form.validate_on_submit():
        try:
            start, end = periods.period(form.start_month.data, form.length.data)
            result = periods.generate_period(
                workroom, start, end, now, acknowledged_years=_acknowledged(form)
            )
            db.session.commit()
            flash(
                _(
                    "%(days)s draft reception days from %(start)s to %(end)s; "
                    "%(empty)s places left empty. Check them, then publish.",
                    days=len(result.assignments),
                    start=start.isoformat(),
                    end=end.isoformat(),
                    empty=result.places_unfilled,
                )
            )
            if workroom is None:
                return redirect(url_for("schedule.preview_all", start=start, end=end))
            return redirect(
                url_for("schedule.preview", workroom_id=workroom.id, start=start, end=end)
            )
        except DomainError as error:
            db.session.rollback()
            if error.field == "acknowledge":
                # The warning itself is shown above the box; the summary says what to do.
                form.form_errors.append(
                    _("Tick “I have checked the holiday arrangements” to generate anyway.")
                )
            else:
                form.add_error(error)
    missing: list[int] = []
    if form.start_month.data and form.length.data in periods.PERIOD_LENGTHS:
        missing = periods.unconfirmed_years(
            *periods.period(form.start_month.data, form.length.data)
        )
    shown = ",".join(str(y) for y in missing)
    if form.acknowledged_years.data != shown:
        # The period now touches other years: the person must look at those again.
        form.acknowledge.data = False
    form.acknowledged_years.data = shown
    form.acknowledge.label.text = _(
        "I have checked the holiday arrangements for %(years)s",
        years=", ".join(str(y) for y in missing),
    )
    return render_template(
        "schedule/generate.html", form=form, workroom=workroom, missing=missing
    ), 400 if form.errors else 200


@bp.route("/workrooms/<int:workroom_id>/generate", methods=["GET", "POST"])
@auth_required()
def generate(workroom_id: int) -> Any:
    return _generate(_workroom(workroom_id, MANAGE))


@bp.route("/schedule/generate", methods=["GET", "POST"])
@auth_required()
def generate_all() -> Any:
    _require_all_workrooms()
    return _generate(None)


def _preview(workroom: Workroom | None) -> Any:
    now = utcnow()
    if "start" in request.args or "end" in request.args:
        start, end = _period_args(request.args)
    else:
        start, end = periods.period(local_date(now) + relativedelta(months=1), 1)
    shown = periods.preview_period(workroom, start, end, now)
    return render_template(
        "schedule/preview.html",
        workroom=workroom,
        start=start,
        end=end,
        rooms=shown.rooms,
        drafts=shown.drafts,
        published=shown.published,
        locale=_locale(),
        time_window=time_window,
    )


@bp.get("/workrooms/<int:workroom_id>/preview")
@auth_required()
def preview(workroom_id: int) -> Any:
    return _preview(_workroom(workroom_id, MANAGE))


@bp.get("/schedule/preview")
@auth_required()
def preview_all() -> Any:
    _require_all_workrooms()
    return _preview(None)


def _publish(workroom: Workroom | None) -> Any:
    start, end = _period_args(request.form)
    published = periods.publish_days(workroom, start, end, utcnow(), current_user)
    db.session.commit()
    flash(_("%(n)s reception days published; the deputies on duty are told.", n=len(published)))
    if workroom is None:
        return redirect(url_for("schedule.index"))
    return redirect(url_for("schedule.overview", workroom_id=workroom.id))


@bp.post("/workrooms/<int:workroom_id>/publish")
@auth_required()
def publish(workroom_id: int) -> Any:
    return _publish(_workroom(workroom_id, MANAGE))


@bp.post("/schedule/publish")
@auth_required()
def publish_all() -> Any:
    _require_all_workrooms()
    return _publish(None)


# One day


def _option_label(option: changes.Option) -> str:
    name = option.deputy.name
    if option.reason == "unavailable":
        return _("%(name)s (unavailable)", name=name)
    if option.reason == "at_cap":
        return _("%(name)s (at the monthly cap)", name=name)
    if option.reason == "busy_elsewhere":
        return _("%(name)s (busy elsewhere at that time)", name=name)
    return _("%(name)s (%(n)s days in 12 months)", name=name, n=option.served_12m)


def _deputy_choices(options: list[changes.Option]) -> list[tuple[int, str]]:
    return [(0, _("Choose a deputy")), *((o.deputy.id, _option_label(o)) for o in options)]


def _day_forms(day: ReceptionDay, options: list[changes.Option], **given: Any) -> dict[str, Any]:
    choices = _deputy_choices(options)
    replace_forms = {}
    for assignment in day.assignments:
        form = given.get("replace", {}).get(assignment.id) or ReplaceForm(
            formdata=None, prefix=f"a{assignment.id}"
        )
        form.deputy_id.choices = choices
        replace_forms[assignment.id] = form
    add_form = given.get("add") or AddDeputyForm(formdata=None, prefix="add")
    add_form.deputy_id.choices = choices
    cancel_form = given.get("cancel") or CancelDayForm(formdata=None, prefix="cancel")
    return {"replace_forms": replace_forms, "add_form": add_form, "cancel_form": cancel_form}


def _refusal(error: DomainError, form: Any) -> list[Any]:
    """Where a refused change is explained: a conflict (the state changed meanwhile) at the
    head of the page, which shows even when the form is gone; a broken rule on its form."""
    if isinstance(error, Conflict):
        return [error.message]
    form.add_error(error)
    return []


def _render_day(
    day: ReceptionDay, status: int = 200, errors: list[Any] | None = None, **given: Any
) -> Any:
    now = utcnow()
    can_manage = bool(
        allowed(MANAGE)
        and db.session.scalar(
            scoped(
                sa.select(ReceptionDay.id).where(ReceptionDay.id == day.id), ReceptionDay, MANAGE
            )
        )
    )
    changeable = can_manage and day.status != "cancelled" and day.starts_at > now
    context: dict[str, Any] = {}
    if changeable:
        options = changes.deputy_options(day)
        context = _day_forms(day, options, **given)
    swaps = db.session.scalars(
        sa.select(SwapRequest)
        .where(SwapRequest.reception_day_id == day.id)
        .order_by(SwapRequest.requested_at, SwapRequest.id)
    ).all()
    return render_template(
        "schedule/day.html",
        day=day,
        can_manage=can_manage,
        changeable=changeable,
        errors=[str(e) for e in errors or []],
        swaps=swaps,
        time_window=time_window,
        locale=_locale(),
        **context,
    ), status


@bp.get("/days/<int:day_id>")
@auth_required()
def day(day_id: int) -> Any:
    return _render_day(_day(day_id, VIEW))


def _assignment_on(day: ReceptionDay, assignment_id: int) -> Assignment:
    assignment = next((a for a in day.assignments if a.id == assignment_id), None)
    if assignment is None:
        abort(404)
    return assignment


def _after_change(day: ReceptionDay, change: changes.Change, message: str) -> Any:
    db.session.commit()
    flash(message)
    for warning in change.warnings:
        flash(warning, "error")
    if change.notified:
        flash(
            _(
                "Told about the change: %(names)s.",
                names=", ".join(d.name for d in change.notified),
            )
        )
    return redirect(url_for("schedule.day", day_id=day.id))


@bp.post("/days/<int:day_id>/assignments/<int:assignment_id>/replace")
@auth_required()
def replace(day_id: int, assignment_id: int) -> Any:
    day = _day(day_id, MANAGE)
    assignment = _assignment_on(day, assignment_id)
    form = ReplaceForm(prefix=f"a{assignment.id}")
    form.deputy_id.choices = _deputy_choices(changes.deputy_options(day))
    if form.validate_on_submit():
        old = assignment.deputy
        new = db.session.get(Deputy, form.deputy_id.data)
        try:
            change = changes.replace_deputy(day, old, new, utcnow())
            return _after_change(
                day, change, _("%(old)s replaced by %(new)s.", old=old.name, new=new.name)
            )
        except DomainError as error:
            db.session.rollback()
            errors = _refusal(error, form)
            return _render_day(day, error.status, errors, replace={assignment_id: form})
    return _render_day(day, 400, replace={assignment.id: form})


@bp.post("/days/<int:day_id>/assignments/<int:assignment_id>/remove")
@auth_required()
def remove(day_id: int, assignment_id: int) -> Any:
    day = _day(day_id, MANAGE)
    assignment = _assignment_on(day, assignment_id)
    deputy = assignment.deputy
    try:
        change = changes.remove_deputy(day, deputy, utcnow())
    except DomainError as error:
        db.session.rollback()
        return _render_day(day, error.status, errors=[error.message])
    return _after_change(day, change, _("%(name)s taken off the day.", name=deputy.name))


@bp.post("/days/<int:day_id>/add")
@auth_required()
def add(day_id: int) -> Any:
    day = _day(day_id, MANAGE)
    form = AddDeputyForm(prefix="add")
    form.deputy_id.choices = _deputy_choices(changes.deputy_options(day))
    if form.validate_on_submit():
        deputy = db.session.get(Deputy, form.deputy_id.data)
        try:
            change = changes.add_deputy(day, deputy, utcnow())
            return _after_change(day, change, _("%(name)s added.", name=deputy.name))
        except DomainError as error:
            db.session.rollback()
            return _render_day(day, error.status, _refusal(error, form), add=form)
    return _render_day(day, 400, add=form)


@bp.post("/days/<int:day_id>/cancel")
@auth_required()
def cancel(day_id: int) -> Any:
    day = _day(day_id, MANAGE)
    form = CancelDayForm(prefix="cancel")
    if form.validate_on_submit():
        try:
            change = changes.cancel_day(day, form.reason.data, utcnow())
            return _after_change(day, change, _("The reception day is cancelled."))
        except DomainError as error:
            db.session.rollback()
            return _render_day(day, error.status, _refusal(error, form), cancel=form)
    return _render_day(day, 400, cancel=form)


# Swap requests


def _render_swaps(
    workroom: Workroom, status: int = 200, errors: list[Any] | None = None, **given: Any
) -> Any:
    now = utcnow()
    rows = []
    for swap in deputy_days.pending_swaps(workroom, now):
        options = changes.propose_substitutes(swap.reception_day)
        approve = given.get("approve", {}).get(swap.id) or ApproveSwapForm(
            formdata=None,
            prefix=f"s{swap.id}",
            deputy_id=options[0].deputy.id if options else 0,
        )
        approve.deputy_id.choices = _deputy_choices(options)
        refuse = given.get("refuse", {}).get(swap.id) or RefuseSwapForm(
            formdata=None, prefix=f"r{swap.id}"
        )
        rows.append({"swap": swap, "options": options, "approve": approve, "refuse": refuse})
    answered = db.session.scalars(
        sa.select(SwapRequest)
        .where(SwapRequest.workroom_id == workroom.id, SwapRequest.status != "pending")
        .order_by(SwapRequest.decided_at.desc(), SwapRequest.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "schedule/swaps.html",
        workroom=workroom,
        rows=rows,
        answered=answered,
        errors=[str(e) for e in errors or []],
        time_window=time_window,
    ), status


@bp.get("/workrooms/<int:workroom_id>/swaps")
@auth_required()
def swaps(workroom_id: int) -> Any:
    return _render_swaps(_workroom(workroom_id, MANAGE))


def _swap(swap_id: int) -> SwapRequest:
    require(MANAGE)
    return get_or_404(SwapRequest, swap_id, MANAGE)


@bp.post("/swaps/<int:swap_id>/approve")
@auth_required()
def swap_approve(swap_id: int) -> Any:
    swap = _swap(swap_id)
    form = ApproveSwapForm(prefix=f"s{swap.id}")
    form.deputy_id.choices = _deputy_choices(changes.propose_substitutes(swap.reception_day))
    if form.validate_on_submit():
        substitute = db.session.get(Deputy, form.deputy_id.data)
        try:
            change = deputy_days.approve_swap(swap, substitute, utcnow(), current_user)
            db.session.commit()
            flash(
                _(
                    "Swap approved: %(new)s takes the place of %(old)s.",
                    new=substitute.name,
                    old=swap.deputy.name,
                )
            )
            for warning in change.warnings:
                flash(warning, "error")
            return redirect(url_for("schedule.swaps", workroom_id=swap.workroom_id))
        except DomainError as error:
            db.session.rollback()
            errors = _refusal(error, form)
            return _render_swaps(swap.workroom, error.status, errors, approve={swap.id: form})
    return _render_swaps(swap.workroom, 400, approve={swap.id: form})


@bp.post("/swaps/<int:swap_id>/refuse")
@auth_required()
def swap_refuse(swap_id: int) -> Any:
    swap = _swap(swap_id)
    form = RefuseSwapForm(prefix=f"r{swap.id}")
    if form.validate_on_submit():
        try:
            deputy_days.refuse_swap(swap, form.note.data, utcnow(), current_user)
            db.session.commit()
            flash(_("Swap request refused; %(name)s is told.", name=swap.deputy.name))
            return redirect(url_for("schedule.swaps", workroom_id=swap.workroom_id))
        except DomainError as error:
            db.session.rollback()
            errors = _refusal(error, form)
            return _render_swaps(swap.workroom, error.status, errors, refuse={swap.id: form})
    return _render_swaps(swap.workroom, 400, refuse={swap.id: form})


# A deputy's own days


def _own_deputy_id() -> int:
    require("schedule.respond")
    deputy_id = getattr(current_user, "deputy_id", None)
    if not deputy_id:
        abort(403)
    return deputy_id


def _own_assignment(assignment_id: int) -> Assignment:
    deputy_id = _own_deputy_id()
    assignment = db.session.scalar(
        sa.select(Assignment)
        .where(Assignment.id == assignment_id, Assignment.deputy_id == deputy_id)
        .options(selectinload(Assignment.reception_day))
    )
    if assignment is None or assignment.reception_day.status == "draft":
        abort(404)
    return assignment


def _render_my_days(status: int = 200, errors: list[Any] | None = None, **given: Any) -> Any:
    deputy_id = _own_deputy_id()
    now = utcnow()
    rows = []
    for assignment in deputy_days.my_days(deputy_id, now):
        day = assignment.reception_day
        open_ = day.status == "published" and day.starts_at > now
        pending = deputy_days.pending_swap(assignment) if open_ else None
        form = None
        if open_ and assignment.status != "declined" and pending is None:
            form = given.get("swap", {}).get(assignment.id) or SwapRequestForm(
                formdata=None, prefix=f"s{assignment.id}"
            )
        rows.append(
            {
                "assignment": assignment,
                "day": day,
                "open": open_,
                "pending": pending,
                "swap_form": form,
            }
        )
    return render_template(
        "schedule/my_days.html",
        rows=rows,
        deputy=db.session.get(Deputy, deputy_id),
        errors=[str(e) for e in errors or []],
        time_window=time_window,
    ), status


@bp.get("/my-days")
@auth_required()
def my_days() -> Any:
    return _render_my_days()


def _respond(assignment_id: int, action: str) -> Any:
    assignment = _own_assignment(assignment_id)
    try:
        changed = deputy_days.respond(assignment, action, utcnow())
    except DomainError as error:
        db.session.rollback()
        return _render_my_days(error.status, errors=[error.message])
    db.session.commit()
    if changed:
        flash(
            _("Thank you: you will attend.")
            if action == "confirm"
            else _("Thank you: the liaison is told that you cannot attend.")
        )
    return redirect(url_for("schedule.my_days"))


@bp.post("/my-days/<int:assignment_id>/confirm")
@auth_required()
def my_day_confirm(assignment_id: int) -> Any:
    return _respond(assignment_id, "confirm")


@bp.post("/my-days/<int:assignment_id>/decline")
@auth_required()
def my_day_decline(assignment_id: int) -> Any:
    return _respond(assignment_id, "decline")


@bp.post("/my-days/<int:assignment_id>/swap")
@auth_required()
def my_day_swap(assignment_id: int) -> Any:
    assignment = _own_assignment(assignment_id)
    form = SwapRequestForm(prefix=f"s{assignment.id}")
    if form.validate_on_submit():
        try:
            deputy_days.request_swap(assignment, form.reason.data, utcnow(), current_user)
            db.session.commit()
            flash(_("Swap request sent to the liaison."))
            return redirect(url_for("schedule.my_days"))
        except DomainError as error:
            db.session.rollback()
            return _render_my_days(error.status, _refusal(error, form), swap={assignment_id: form})
    return _render_my_days(400, swap={assignment.id: form})
