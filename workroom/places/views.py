"""Staff pages for areas and workrooms."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import auth_required

from workroom.auth.permissions import allowed, get_or_404, require, scoped
from workroom.db import db
from workroom.forms import render_form, save
from workroom.listing import active_only, page_of, search
from workroom.places import directory
from workroom.places.forms import AreaForm, WorkroomForm
from workroom.places.models import AREA_LEVELS, Area, Workroom

bp = Blueprint("places", __name__, url_prefix="/staff")


def area_choices(blank: str | None = None) -> list[tuple[int, str]]:
    areas = db.session.scalars(sa.select(Area).where(Area.active).order_by(Area.name)).all()
    choices = sorted(((a.id, a.full_name) for a in areas), key=lambda c: c[1])
    return ([(0, blank)] if blank else []) + choices


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


def _parent(form: AreaForm) -> Area | None:
    return db.session.get(Area, form.parent_id.data) if form.parent_id.data else None


@bp.route("/areas/new", methods=["GET", "POST"])
@auth_required()
def area_new() -> Any:
    require("area.manage")
    form = _area_form(AreaForm())
    created = save(
        form, lambda: directory.create_area(form.name.data, form.level.data, _parent(form))
    )
    if created is not None:
        flash(_("Area %(name)s created.", name=created.name))
        return redirect(url_for("places.areas"))
    return render_form("places/area_form.html", form, area=None)


@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@auth_required()
def area_edit(area_id: int) -> Any:
    area = get_or_404(Area, area_id, "area.manage")
    form = _area_form(AreaForm(obj=area, parent_id=area.parent_id or 0))

    def change() -> Area:
        directory.update_area(
            area,
            name=form.name.data,
            level=form.level.data,
            parent=_parent(form),
            active=form.active.data,
        )
        return area

    if save(form, change) is not None:
        flash(_("Area %(name)s saved.", name=area.name))
        return redirect(url_for("places.areas"))
    return render_form("places/area_form.html", form, area=area)


# Workrooms


@bp.get("/workrooms")
@auth_required()
def workrooms() -> Any:
    require("workroom.view")
    stmt = scoped(sa.select(Workroom), Workroom, "workroom.view")
    stmt, _q = search(stmt, Workroom.name, Workroom.slug, Workroom.address)
    stmt = active_only(stmt, Workroom)
    page = page_of(stmt.order_by(Workroom.name))
    return render_template("places/workrooms.html", page=page, q=request.args.get("q", ""))


def _workroom_form(form: WorkroomForm) -> WorkroomForm:
    form.area_id.choices = area_choices(blank=_("Choose an area"))
    return form


def _workroom_values(form: WorkroomForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "area": db.session.get(Area, form.area_id.data),
        "address": form.address.data,
        "phone": form.phone.data,
        "liaison_hours": form.liaison_hours.data,
    }


@bp.route("/workrooms/new", methods=["GET", "POST"])
@auth_required()
def workroom_new() -> Any:
    require("workroom.manage")
    form = _workroom_form(WorkroomForm())
    created = save(
        form, lambda: directory.create_workroom(slug=form.slug.data, **_workroom_values(form))
    )
    if created is not None:
        flash(_("Workroom %(name)s created.", name=created.name))
        return redirect(url_for("places.workroom_detail", workroom_id=created.id))
    return render_form("places/workroom_form.html", form, workroom=None)


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

    def change() -> Workroom:
        directory.update_workroom(workroom, active=form.active.data, **_workroom_values(form))
        return workroom

    if save(form, change) is not None:
        flash(_("Workroom %(name)s saved.", name=workroom.name))
        return redirect(url_for("places.workroom_detail", workroom_id=workroom.id))
    return render_form("places/workroom_form.html", form, workroom=workroom)
