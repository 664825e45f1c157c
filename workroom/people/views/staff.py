"""Staff pages for deputies, professional groups and agencies."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import auth_required
from sqlalchemy.orm import selectinload

from workroom.auth.permissions import allowed, get_or_404, require, scoped
from workroom.db import db
from workroom.errors import DomainError
from workroom.forms import render_form, save
from workroom.listing import active_only, id_arg, page_of, search
from workroom.people import directory
from workroom.people.forms import AgencyForm, DeputyForm, GroupForm, UnavailabilityForm
from workroom.people.models import (
    DEPUTY_LEVELS,
    Agency,
    Deputy,
    ProfessionalGroup,
    Unavailability,
)
from workroom.places.models import Area, Workroom
from workroom.places.views import area_choices

bp = Blueprint("people", __name__, url_prefix="/staff")


def _visible_ids(model: type, permission: str, ids: list[int]) -> set[int]:
    """Which of ``ids`` the current user may open (to link only those)."""
    if not ids:
        return set()
    stmt = scoped(sa.select(model.id).where(model.id.in_(ids)), model, permission)
    return set(db.session.scalars(stmt))


def _chosen(model: type, ids: list[int], field: str) -> list[Any]:
    ids = sorted(set(ids or []))
    rows = list(db.session.scalars(sa.select(model).where(model.id.in_(ids)))) if ids else []
    if len(rows) != len(ids):
        raise DomainError(_("Choose from the list."), field)
    return rows


# Deputies


@bp.get("/deputies")
@auth_required()
def deputies() -> Any:
    require("deputy.view")
    stmt = scoped(sa.select(Deputy), Deputy, "deputy.view")
    stmt, q = search(stmt, Deputy.name, Deputy.sector, Deputy.constituency)
    level = request.args.get("level", "")
    if level in DEPUTY_LEVELS:
        stmt = stmt.where(Deputy.level == level)
    workroom_id = id_arg("workroom")
    if workroom_id:
        stmt = stmt.where(Deputy.workrooms.any(Workroom.id == workroom_id))
    stmt = active_only(stmt, Deputy)
    page = page_of(stmt.options(selectinload(Deputy.workrooms)).order_by(Deputy.name, Deputy.id))
    workrooms = db.session.scalars(
        scoped(sa.select(Workroom), Workroom, "workroom.view").order_by(Workroom.name)
    ).all()
    return render_template(
        "people/deputies.html",
        page=page,
        q=q,
        level=level,
        levels=DEPUTY_LEVELS,
        workroom_id=workroom_id,
        workrooms=workrooms,
    )


def _deputy_form(form: DeputyForm, deputy: Deputy | None = None) -> DeputyForm:
    # Keep inactive groups and workrooms the deputy already has, so saving keeps them.
    current_groups = {g.id for g in deputy.groups} if deputy else set()
    groups = db.session.scalars(
        sa.select(ProfessionalGroup)
        .where(sa.or_(ProfessionalGroup.active, ProfessionalGroup.id.in_(current_groups)))
        .order_by(ProfessionalGroup.name)
    )
    form.group_ids.choices = [(g.id, g.name) for g in groups]
    current_rooms = {w.id for w in deputy.workrooms} if deputy else set()
    rooms = db.session.scalars(
        sa.select(Workroom)
        .where(sa.or_(Workroom.active, Workroom.id.in_(current_rooms)))
        .order_by(Workroom.name)
    )
    form.workroom_ids.choices = [(w.id, w.name) for w in rooms]
    return form


def _deputy_values(form: DeputyForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "level": form.level.data,
        "term": form.term.data,
        "constituency": form.constituency.data,
        "sector": form.sector.data,
        "phone": form.phone.data,
        "email": form.email.data,
        "monthly_cap": form.monthly_cap.data,
        "groups": _chosen(ProfessionalGroup, form.group_ids.data, "group_ids"),
        "workrooms": _chosen(Workroom, form.workroom_ids.data, "workroom_ids"),
    }


@bp.route("/deputies/new", methods=["GET", "POST"])
@auth_required()
def deputy_new() -> Any:
    require("deputy.manage")
    form = _deputy_form(DeputyForm())
    if (deputy := save(form, lambda: directory.create_deputy(**_deputy_values(form)))) is not None:
        flash(_("Deputy %(name)s created.", name=deputy.name))
        return redirect(url_for("people.deputy_detail", deputy_id=deputy.id))
    return render_form("people/deputy_form.html", form, deputy=None)


def _render_deputy(deputy: Deputy, form: UnavailabilityForm | None = None) -> Any:
    can_manage = allowed("deputy.manage")
    if can_manage and form is None:
        form = UnavailabilityForm()
    return render_template(
        "people/deputy_detail.html",
        deputy=deputy,
        can_manage=can_manage,
        form=form if can_manage else None,
        visible_workrooms=_visible_ids(Workroom, "workroom.view", [w.id for w in deputy.workrooms]),
    )


@bp.get("/deputies/<int:deputy_id>")
@auth_required()
def deputy_detail(deputy_id: int) -> Any:
    return _render_deputy(get_or_404(Deputy, deputy_id, "deputy.view"))


@bp.route("/deputies/<int:deputy_id>/edit", methods=["GET", "POST"])
@auth_required()
def deputy_edit(deputy_id: int) -> Any:
    deputy = get_or_404(Deputy, deputy_id, "deputy.manage")
    form = _deputy_form(
        DeputyForm(
            obj=deputy,
            group_ids=[g.id for g in deputy.groups],
            workroom_ids=[w.id for w in deputy.workrooms],
        ),
        deputy,
    )

    def change() -> Deputy:
        directory.update_deputy(deputy, active=form.active.data, **_deputy_values(form))
        return deputy

    if save(form, change) is not None:
        flash(_("Deputy %(name)s saved.", name=deputy.name))
        return redirect(url_for("people.deputy_detail", deputy_id=deputy.id))
    return render_form("people/deputy_form.html", form, deputy=deputy)


@bp.post("/deputies/<int:deputy_id>/unavailability")
@auth_required()
def unavailability_add(deputy_id: int) -> Any:
    deputy = get_or_404(Deputy, deputy_id, "deputy.manage")
    form = UnavailabilityForm()
    added = save(
        form,
        lambda: directory.add_unavailability(
            deputy,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            reason=form.reason.data,
        ),
    )
    if added is not None:
        flash(_("Unavailable period added."))
        return redirect(url_for("people.deputy_detail", deputy_id=deputy.id))
    return _render_deputy(deputy, form), 400


@bp.post("/deputies/<int:deputy_id>/unavailability/<int:period_id>/delete")
@auth_required()
def unavailability_delete(deputy_id: int, period_id: int) -> Any:
    deputy = get_or_404(Deputy, deputy_id, "deputy.manage")
    period = db.session.get(Unavailability, period_id)
    if period is None or period.deputy_id != deputy.id:
        abort(404)
    directory.remove_unavailability(period)
    db.session.commit()
    flash(_("Unavailable period removed."))
    return redirect(url_for("people.deputy_detail", deputy_id=deputy.id))


# Professional groups


@bp.get("/groups")
@auth_required()
def groups() -> Any:
    require("group.view")
    stmt, q = search(sa.select(ProfessionalGroup), ProfessionalGroup.name, ProfessionalGroup.code)
    stmt = active_only(stmt, ProfessionalGroup)
    page = page_of(stmt.order_by(ProfessionalGroup.name, ProfessionalGroup.id))
    return render_template("people/groups.html", page=page, q=q)


@bp.route("/groups/new", methods=["GET", "POST"])
@auth_required()
def group_new() -> Any:
    require("group.manage")
    form = GroupForm()
    group = save(form, lambda: directory.create_group(code=form.code.data, name=form.name.data))
    if group is not None:
        flash(_("Professional group %(name)s created.", name=group.name))
        return redirect(url_for("people.groups"))
    return render_form("people/group_form.html", form, group=None)


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
@auth_required()
def group_edit(group_id: int) -> Any:
    group = get_or_404(ProfessionalGroup, group_id, "group.manage")
    form = GroupForm(obj=group)
    del form.code

    def change() -> ProfessionalGroup:
        directory.update_group(group, name=form.name.data, active=form.active.data)
        return group

    if save(form, change) is not None:
        flash(_("Professional group %(name)s saved.", name=group.name))
        return redirect(url_for("people.groups"))
    return render_form("people/group_form.html", form, group=group)


# Agencies


@bp.get("/agencies")
@auth_required()
def agencies() -> Any:
    require("agency.view")
    stmt = scoped(sa.select(Agency), Agency, "agency.view")
    stmt, q = search(stmt, Agency.name, Agency.code)
    stmt = active_only(stmt, Agency)
    page = page_of(
        stmt.options(selectinload(Agency.area), selectinload(Agency.supervisor)).order_by(
            Agency.name, Agency.id
        )
    )
    return render_template("people/agencies.html", page=page, q=q)


def _agency_form(form: AgencyForm, agency: Agency | None = None) -> AgencyForm:
    form.area_id.choices = area_choices(blank=_("No particular area"))
    stmt = sa.select(Agency).order_by(Agency.name)
    if agency is not None:
        stmt = stmt.where(
            Agency.id != agency.id,
            sa.or_(Agency.active, Agency.id == (agency.supervisor_id or 0)),
        )
    else:
        stmt = stmt.where(Agency.active)
    form.supervisor_id.choices = [(0, _("None"))] + [
        (a.id, a.name) for a in db.session.scalars(stmt)
    ]
    return form


def _agency_values(form: AgencyForm) -> dict[str, Any]:
    supervisor = None
    if form.supervisor_id.data:
        supervisor = db.session.get(Agency, form.supervisor_id.data)
        if supervisor is None:
            raise DomainError(_("Choose from the list."), "supervisor_id")
    return {
        "name": form.name.data,
        "area": db.session.get(Area, form.area_id.data) if form.area_id.data else None,
        "contact_name": form.contact_name.data,
        "contact_phone": form.contact_phone.data,
        "email": form.email.data,
        "supervisor": supervisor,
    }


@bp.route("/agencies/new", methods=["GET", "POST"])
@auth_required()
def agency_new() -> Any:
    require("agency.manage")
    form = _agency_form(AgencyForm(area_id=0, supervisor_id=0))
    agency = save(
        form, lambda: directory.create_agency(code=form.code.data, **_agency_values(form))
    )
    if agency is not None:
        flash(_("Agency %(name)s created.", name=agency.name))
        return redirect(url_for("people.agency_detail", agency_id=agency.id))
    return render_form("people/agency_form.html", form, agency=None)


@bp.get("/agencies/<int:agency_id>")
@auth_required()
def agency_detail(agency_id: int) -> Any:
    agency = get_or_404(Agency, agency_id, "agency.view")
    supervised = db.session.scalars(
        scoped(sa.select(Agency), Agency, "agency.view")
        .where(Agency.supervisor_id == agency.id)
        .order_by(Agency.name)
    ).all()
    visible = _visible_ids(Agency, "agency.view", [agency.supervisor_id or 0])
    return render_template(
        "people/agency_detail.html",
        agency=agency,
        supervised=supervised,
        supervisor_visible=agency.supervisor_id in visible,
        can_manage=allowed("agency.manage"),
    )


@bp.route("/agencies/<int:agency_id>/edit", methods=["GET", "POST"])
@auth_required()
def agency_edit(agency_id: int) -> Any:
    agency = get_or_404(Agency, agency_id, "agency.manage")
    form = _agency_form(AgencyForm(obj=agency), agency)
    del form.code

    def change() -> Agency:
        directory.update_agency(agency, active=form.active.data, **_agency_values(form))
        return agency

    if save(form, change) is not None:
        flash(_("Agency %(name)s saved.", name=agency.name))
        return redirect(url_for("people.agency_detail", agency_id=agency.id))
    return render_form("people/agency_form.html", form, agency=agency)
