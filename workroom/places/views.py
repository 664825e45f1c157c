"""Staff pages for areas and workrooms."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import auth_required

from workroom.auth.permissions import allowed, get_or_404, require, scoped
from workroom.db import db
from workroom.errors import DomainError
from workroom.places import manage
from workroom.places.forms import AreaForm, WorkroomForm
from workroom.places.models import AREA_LEVELS, Area, Workroom

bp = Blueprint("places", __name__, url_prefix="/staff")


def area_choices(blank: str | None = None) -> list[tuple[int, str]]:
    areas = db.session.scalars(sa.select(Area).where(Area.active).order_by(Area.name)).all()
    choices = sorted(((a.id, a.full_name) for a in areas), key=lambda c: c[1])
    return ([(0, blank)] if blank else []) + choices


def _search(stmt: sa.Select, *columns: Any) -> sa.Select:
    q = (request.args.get("q") or "").strip()[:100]
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(sa.or_(*(c.ilike(pattern) for c in columns)))
    return stmt


def _page() -> int:
    return request.args.get("page", 1, type=int) or 1


# Areas


@bp.get("/areas")
@auth_required()
def areas() -> Any:
    require("area.view")
    roots = db.session.scalars(
        sa.select(Area).where(Area.parent_id.is_(None)).order_by(Area.name)
    ).all()
    return render_template("places/areas.html", roots=roots, levels=AREA_LEVELS)


def _area_form(form: AreaForm) -> AreaForm:
    form.parent_id.choices = area_choices(blank=_("None (a city)"))
    return form


@bp.route("/areas/new", methods=["GET", "POST"])
@auth_required()
def area_new() -> Any:
    require("area.manage")
    form = _area_form(AreaForm())
    if form.validate_on_submit():
        try:
            parent = db.session.get(Area, form.parent_id.data) if form.parent_id.data else None
            area = manage.create_area(form.name.data, form.level.data, parent)
            db.session.commit()
            flash(_("Area %(name)s created.", name=area.name))
            return redirect(url_for("places.areas"))
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    return render_template(
        "places/area_form.html", form=form, area=None
    ), 400 if form.errors else 200


@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@auth_required()
def area_edit(area_id: int) -> Any:
    area = get_or_404(Area, area_id, "area.manage")
    form = _area_form(AreaForm(obj=area, parent_id=area.parent_id or 0))
    if form.validate_on_submit():
        try:
            parent = db.session.get(Area, form.parent_id.data) if form.parent_id.data else None
            manage.update_area(
                area,
                name=form.name.data,
                level=form.level.data,
                parent=parent,
                active=form.active.data,
            )
            db.session.commit()
            flash(_("Area %(name)s saved.", name=area.name))
            return redirect(url_for("places.areas"))
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    return render_template(
        "places/area_form.html", form=form, area=area
    ), 400 if form.errors else 200


# Workrooms


@bp.get("/workrooms")
@auth_required()
def workrooms() -> Any:
    require("workroom.view")
    stmt = scoped(sa.select(Workroom), Workroom, "workroom.view")
    stmt = _search(stmt, Workroom.name, Workroom.slug, Workroom.address)
    if request.args.get("status") != "all":
        stmt = stmt.where(Workroom.active)
    page = db.paginate(
        stmt.order_by(Workroom.name),
        page=_page(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template("places/workrooms.html", page=page, q=request.args.get("q", ""))


def _workroom_form(form: WorkroomForm) -> WorkroomForm:
    form.area_id.choices = area_choices(blank=_("Choose an area"))
    return form


@bp.route("/workrooms/new", methods=["GET", "POST"])
@auth_required()
def workroom_new() -> Any:
    require("workroom.manage")
    form = _workroom_form(WorkroomForm())
    if form.validate_on_submit():
        try:
            workroom = manage.create_workroom(
                name=form.name.data,
                slug=form.slug.data,
                area=db.session.get(Area, form.area_id.data),
                address=form.address.data,
                phone=form.phone.data,
                liaison_hours=form.liaison_hours.data,
            )
            db.session.commit()
            flash(_("Workroom %(name)s created.", name=workroom.name))
            return redirect(url_for("places.workroom_detail", workroom_id=workroom.id))
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    status = 400 if form.errors else 200
    return render_template("places/workroom_form.html", form=form, workroom=None), status


@bp.get("/workrooms/<int:workroom_id>")
@auth_required()
def workroom_detail(workroom_id: int) -> Any:
    workroom = get_or_404(Workroom, workroom_id, "workroom.view")
    return render_template(
        "places/workroom_detail.html",
        workroom=workroom,
        can_manage=allowed("workroom.manage"),
    )


@bp.route("/workrooms/<int:workroom_id>/edit", methods=["GET", "POST"])
@auth_required()
def workroom_edit(workroom_id: int) -> Any:
    workroom = get_or_404(Workroom, workroom_id, "workroom.manage")
    form = _workroom_form(WorkroomForm(obj=workroom))
    del form.slug
    if form.validate_on_submit():
        try:
            manage.update_workroom(
                workroom,
                name=form.name.data,
                area=db.session.get(Area, form.area_id.data),
                address=form.address.data,
                phone=form.phone.data,
                liaison_hours=form.liaison_hours.data,
                active=form.active.data,
            )
            db.session.commit()
            flash(_("Workroom %(name)s saved.", name=workroom.name))
            return redirect(url_for("places.workroom_detail", workroom_id=workroom.id))
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    status = 400 if form.errors else 200
    return render_template("places/workroom_form.html", form=form, workroom=workroom), status
