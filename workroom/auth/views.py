"""Account administration: list, create, edit, deactivate, reset password."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import auth_required, current_user

from workroom.auth import accounts
from workroom.auth.forms import UserForm
from workroom.auth.models import User
from workroom.auth.permissions import ROLES, get_or_404, require
from workroom.db import db
from workroom.errors import DomainError
from workroom.listing import page_of
from workroom.people.models import Agency, Deputy
from workroom.places.models import Workroom

bp = Blueprint("auth", __name__, url_prefix="/staff")


def _scope_choices(form: UserForm) -> UserForm:
    form.workroom_ids.choices = [
        (w.id, w.name)
        for w in db.session.scalars(
            sa.select(Workroom).where(Workroom.active).order_by(Workroom.name)
        )
    ]
    form.agency_id.choices = [(0, "—")] + [
        (a.id, a.name)
        for a in db.session.scalars(sa.select(Agency).where(Agency.active).order_by(Agency.name))
    ]
    form.deputy_id.choices = [(0, "—")] + [
        (d.id, d.name)
        for d in db.session.scalars(sa.select(Deputy).where(Deputy.active).order_by(Deputy.name))
    ]
    return form


def _scope_values(form: UserForm) -> dict[str, Any]:
    workroom_ids = [i for i in (form.workroom_ids.data or []) if isinstance(i, int)]
    workrooms = list(db.session.scalars(sa.select(Workroom).where(Workroom.id.in_(workroom_ids))))
    if len(workrooms) != len(set(workroom_ids)):
        raise DomainError(_("Choose workrooms from the list."), "workroom_ids")
    return {
        "workrooms": workrooms,
        "agency": db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None,
        "deputy": db.session.get(Deputy, form.deputy_id.data) if form.deputy_id.data else None,
    }


@bp.get("/users")
@auth_required()
def users() -> Any:
    require("user.manage")
    stmt = sa.select(User)
    q = (request.args.get("q") or "").strip()[:100]
    if q:
        stmt = stmt.where(sa.or_(User.username.ilike(f"%{q}%"), User.display_name.ilike(f"%{q}%")))
    page = page_of(stmt.order_by(User.username))
    return render_template("auth/users.html", page=page, q=q, roles=ROLES)


@bp.route("/users/new", methods=["GET", "POST"])
@auth_required()
def user_new() -> Any:
    require("user.manage")
    form = _scope_choices(UserForm())
    if form.validate_on_submit():
        try:
            user, password = accounts.create_user(
                form.username.data,
                form.role.data,
                display_name=form.display_name.data,
                must_change_password=True,
                **_scope_values(form),
            )
            db.session.commit()
            return render_template("auth/password_shown.html", user=user, password=password)
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    return render_template("auth/user_form.html", form=form, user=None), 400 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@auth_required()
def user_edit(user_id: int) -> Any:
    user = get_or_404(User, user_id, "user.manage")
    form = _scope_choices(
        UserForm(
            obj=user,
            role=user.role,
            workroom_ids=[w.id for w in user.workrooms],
            agency_id=user.agency_id or 0,
            deputy_id=user.deputy_id or 0,
        )
    )
    del form.username
    if form.validate_on_submit():
        try:
            accounts.update_user(
                user,
                role=form.role.data,
                display_name=form.display_name.data,
                active=form.active.data,
                actor=current_user,
                **_scope_values(form),
            )
            db.session.commit()
            flash(_("Account %(name)s saved.", name=user.username))
            return redirect(url_for("auth.users"))
        except DomainError as error:
            db.session.rollback()
            form.add_error(error)
    return render_template("auth/user_form.html", form=form, user=user), 400 if form.errors else 200


@bp.post("/users/<int:user_id>/reset-password")
@auth_required()
def user_reset_password(user_id: int) -> Any:
    user = get_or_404(User, user_id, "user.manage")
    password = accounts.reset_password(user)
    db.session.commit()
    return render_template("auth/password_shown.html", user=user, password=password)
