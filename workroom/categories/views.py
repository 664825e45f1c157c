"""Staff pages for the category taxonomy."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_security import auth_required

from workroom.auth.permissions import require

bp = Blueprint("categories", __name__, url_prefix="/staff")


@bp.get("/categories")
@auth_required()
def index() -> Any:
    require("category.view")
    return render_template("base.html")
