"""Staff pages for routing rules and the route preview."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_security import auth_required
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict

from workroom.auth.permissions import allowed, get_or_404, require
from workroom.categories.models import Category, category_subtree_ids
from workroom.db import db
from workroom.errors import DomainError
from workroom.forms import render_form, save
from workroom.listing import active_only, id_arg, page_of
from workroom.people.models import Agency, ProfessionalGroup
from workroom.places.models import Area, area_subtree_ids
from workroom.places.views import area_choices
from workroom.suggestions import routing
from workroom.suggestions.forms_routing import RoutePreviewForm, RoutingRuleForm
from workroom.suggestions.models import DEADLINE_POLICIES, RoutingRule, routing_rule_co_agency

bp = Blueprint("routing", __name__, url_prefix="/staff")


def category_choices(keep: int | None = None, blank: str | None = None) -> list[tuple[int, str]]:
    """Active categories in tree order, sub-categories under their parent."""
    tops = db.session.scalars(
        sa.select(Category)
        .where(Category.parent_id.is_(None))
        .options(selectinload(Category.children))
        .order_by(Category.position, Category.code)
    ).all()
    choices = [(0, blank)] if blank else []
    for top in tops:
        if top.active or top.id == keep:
            choices.append((top.id, top.label))
        for child in top.children:
            if child.active or child.id == keep:
                choices.append((child.id, f"{top.label} › {child.label}"))
    return choices


def _agencies(keep: set[int] = frozenset()) -> list[Agency]:  # type: ignore[assignment]
    return list(
        db.session.scalars(
            sa.select(Agency)
            .where(sa.or_(Agency.active, Agency.id.in_(keep or {0})))
            .order_by(Agency.name, Agency.id)
        )
    )


def _int_arg(name: str) -> int:
    return id_arg(name) or 0


@bp.get("/routing")
@auth_required()
def rules() -> Any:
    require("routing.view")
    category_id, area_id, agency_id = _int_arg("category"), _int_arg("area"), _int_arg("agency")
    stmt = (
        sa.select(RoutingRule)
        .join(RoutingRule.category)
        .join(RoutingRule.area)
        .options(
            joinedload(RoutingRule.category),
            joinedload(RoutingRule.area),
            joinedload(RoutingRule.lead_agency),
            joinedload(RoutingRule.group),
            selectinload(RoutingRule.co_agencies),
        )
    )
    if category_id:
        stmt = stmt.where(RoutingRule.category_id.in_(category_subtree_ids(category_id)))
    if area_id:
        stmt = stmt.where(RoutingRule.area_id.in_(area_subtree_ids(area_id)))
    if agency_id:
        stmt = stmt.where(
            sa.or_(
                RoutingRule.lead_agency_id == agency_id,
                RoutingRule.id.in_(
                    sa.select(routing_rule_co_agency.c.rule_id).where(
                        routing_rule_co_agency.c.agency_id == agency_id
                    )
                ),
            )
        )
    stmt = active_only(stmt, RoutingRule)
    page = page_of(
        stmt.order_by(Category.code, Area.name, RoutingRule.priority.desc(), RoutingRule.id)
    )
    return render_template(
        "routing/rules.html",
        page=page,
        categories=category_choices(keep=category_id),
        areas=area_choices(),
        agencies=_agencies({agency_id}),
        category_id=category_id,
        area_id=area_id,
        agency_id=agency_id,
        policies=DEADLINE_POLICIES,
    )


def _rule_form(form: RoutingRuleForm, rule: RoutingRule | None = None) -> RoutingRuleForm:
    form.category_id.choices = category_choices(
        keep=rule.category_id if rule else None, blank=_("Choose a category")
    )
    areas = area_choices(blank=_("Choose an area"))
    if rule is not None and not rule.area.active:
        areas.append((rule.area.id, rule.area.full_name))
    form.area_id.choices = areas
    keep = {rule.lead_agency_id, *(a.id for a in rule.co_agencies)} if rule else set()
    agencies = _agencies(keep)
    form.lead_agency_id.choices = [(0, _("Choose the lead agency"))] + [
        (a.id, a.name) for a in agencies
    ]
    form.co_agency_ids.choices = [(a.id, a.name) for a in agencies]
    groups = db.session.scalars(
        sa.select(ProfessionalGroup)
        .where(
            sa.or_(ProfessionalGroup.active, ProfessionalGroup.id == (rule.group_id if rule else 0))
        )
        .order_by(ProfessionalGroup.name)
    )
    form.group_id.choices = [(0, _("None"))] + [(g.id, g.name) for g in groups]
    return form


def _rule_values(form: RoutingRuleForm) -> dict[str, Any]:
    def chosen(model: type, object_id: int, field: str) -> Any:
        if not object_id:
            return None
        obj = db.session.get(model, object_id)
        if obj is None:
            raise DomainError(_("Choose from the list."), field)
        return obj

    co_ids = sorted(set(form.co_agency_ids.data or []))
    co = list(db.session.scalars(sa.select(Agency).where(Agency.id.in_(co_ids)))) if co_ids else []
    if len(co) != len(co_ids):
        raise DomainError(_("Choose from the list."), "co_agency_ids")
    return {
        "category": chosen(Category, form.category_id.data, "category_id"),
        "area": chosen(Area, form.area_id.data, "area_id"),
        "lead_agency": chosen(Agency, form.lead_agency_id.data, "lead_agency_id"),
        "co_agencies": co,
        "group": chosen(ProfessionalGroup, form.group_id.data, "group_id"),
        "deadline_policy": form.deadline_policy.data,
        "priority": form.priority.data,
    }


@bp.route("/routing/new", methods=["GET", "POST"])
@auth_required()
def rule_new() -> Any:
    require("routing.manage")
    form = _rule_form(
        RoutingRuleForm(
            category_id=_int_arg("category_id"),
            area_id=_int_arg("area_id"),
            lead_agency_id=0,
            group_id=0,
        )
    )
    rule = save(form, lambda: routing.create_rule(**_rule_values(form), active=form.active.data))
    if rule is not None:
        flash(_("Routing rule #%(id)s created.", id=rule.id))
        return redirect(url_for("routing.rules"))
    return render_form("routing/rule_form.html", form, rule=None)


@bp.route("/routing/<int:rule_id>", methods=["GET", "POST"])
@auth_required()
def rule_edit(rule_id: int) -> Any:
    rule = get_or_404(RoutingRule, rule_id, "routing.manage")
    form = _rule_form(
        RoutingRuleForm(
            obj=rule,
            group_id=rule.group_id or 0,
            co_agency_ids=[a.id for a in rule.co_agencies],
        ),
        rule,
    )

    def change() -> RoutingRule:
        routing.update_rule(rule, **_rule_values(form), active=form.active.data)
        return rule

    if save(form, change) is not None:
        flash(_("Routing rule #%(id)s saved.", id=rule.id))
        return redirect(url_for("routing.rules"))
    return render_form("routing/rule_form.html", form, rule=rule)


def _preview_args() -> MultiDict:
    """The query string, accepting a category code for ``category`` and the rule
    form's names (category_id, area_id)."""
    args = MultiDict()
    category = request.args.get("category") or request.args.get("category_id") or ""
    area = request.args.get("area") or request.args.get("area_id") or ""
    if category and not category.isdigit():
        found = db.session.scalar(sa.select(Category.id).where(Category.code == category))
        category = str(found) if found else category
    args["category"], args["area"] = category, area
    return args


@bp.get("/routing/preview")
@auth_required()
def preview() -> Any:
    require("routing.view")
    asked = any(request.args.get(n) for n in ("category", "category_id", "area", "area_id"))
    form = RoutePreviewForm(formdata=_preview_args() if asked else None)
    form.category.choices = category_choices(blank=_("Choose a category"))
    form.area.choices = area_choices(blank=_("Choose an area"))
    decision = None
    if asked and form.validate():
        category = db.session.get(Category, form.category.data) if form.category.data else None
        area = db.session.get(Area, form.area.data) if form.area.data else None
        if category is None:
            form.category.errors = [_("Choose a category.")]
        if area is None:
            form.area.errors = [_("Choose an area.")]
        if category is not None and area is not None:
            decision = routing.route(category, area)
    locale = get_locale()
    return render_template(
        "routing/preview.html",
        form=form,
        decision=decision,
        headline=routing.explain_decision(decision, locale) if decision else "",
        describe_rule=lambda rule: routing.describe_rule(rule, locale),
        loss_label=routing.loss_label,
        policies=DEADLINE_POLICIES,
        can_manage=allowed("routing.manage"),
    ), 400 if form.errors else 200
