"""Staff pages for the category taxonomy."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_security import auth_required
from sqlalchemy.orm import selectinload

from workroom.auth.permissions import get_or_404, require
from workroom.categories import catalog
from workroom.categories.forms import CategoryForm
from workroom.categories.models import Category
from workroom.db import db
from workroom.errors import DomainError
from workroom.forms import render_form, save
from workroom.listing import active_only, id_arg, showing_all

bp = Blueprint("categories", __name__, url_prefix="/staff")


@bp.get("/categories")
@auth_required()
def index() -> Any:
    require("category.view")
    show_all = showing_all()
    stmt = (
        sa.select(Category)
        .where(Category.parent_id.is_(None))
        .options(selectinload(Category.children))
        .order_by(Category.position, Category.code)
    )
    stmt = active_only(stmt, Category)
    tree = [
        (top, [c for c in top.children if show_all or c.active]) for top in db.session.scalars(stmt)
    ]
    return render_template("categories/index.html", tree=tree, show_all=show_all)


@bp.route("/categories/new", methods=["GET", "POST"])
@auth_required()
def new() -> Any:
    require("category.manage")
    form = CategoryForm(parent_id=id_arg("parent") or 0)
    tops = db.session.scalars(
        sa.select(Category)
        .where(Category.parent_id.is_(None), Category.active)
        .order_by(Category.position, Category.code)
    )
    form.parent_id.choices = [(0, _("None (a top-level category)"))] + [
        (c.id, f"{c.label} ({c.code})") for c in tops
    ]

    def change() -> Category:
        parent = None
        if form.parent_id.data:
            parent = db.session.get(Category, form.parent_id.data)
            if parent is None:
                raise DomainError(_("Choose from the list."), "parent_id")
        return catalog.create_category(
            code=form.code.data,
            label_zh=form.label_zh.data,
            label_en=form.label_en.data,
            parent=parent,
            position=form.position.data,
        )

    if (category := save(form, change)) is not None:
        flash(_("Category %(name)s created.", name=category.label))
        return redirect(url_for("categories.index"))
    return render_form("categories/category_form.html", form, category=None)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@auth_required()
def edit(category_id: int) -> Any:
    category = get_or_404(Category, category_id, "category.manage")
    form = CategoryForm(obj=category)
    del form.code
    del form.parent_id

    def change() -> Category:
        catalog.update_category(
            category,
            label_zh=form.label_zh.data,
            label_en=form.label_en.data,
            position=form.position.data,
            active=form.active.data,
        )
        return category

    if save(form, change) is not None:
        flash(_("Category %(name)s saved.", name=category.label))
        return redirect(url_for("categories.index"))
    return render_form("categories/category_form.html", form, category=category)
