"""Staff pages for deputies, professional groups and agencies."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_security import auth_required

from workroom.auth.permissions import require

bp = Blueprint("people", __name__, url_prefix="/staff")


@bp.get("/deputies")
@auth_required()
def deputies() -> Any:
    require("deputy.view")
    return render_template("base.html")


@bp.get("/agencies")
@auth_required()
def agencies() -> Any:
    require("agency.view")
    return render_template("base.html")


@bp.get("/groups")
@auth_required()
def groups() -> Any:
    require("group.view")
    return render_template("base.html")
