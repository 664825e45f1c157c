"""The read-only JSON API (``/api/v1``): categories, the privacy notice and the OpenAPI
document. Check-ins are in ``workroom.api.checkins``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app

from workroom.categories.models import Category
from workroom.db import db
from workroom.visits.privacy_notice import privacy_notice

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/categories")
def categories() -> Any:
    rows = db.session.scalars(
        sa.select(Category).where(Category.active).order_by(Category.position, Category.id)
    ).all()
    children: dict[int, list[Category]] = {}
    for category in rows:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(category)

    def entry(category: Category) -> dict[str, Any]:
        return {
            "code": category.code,
            "label_zh": category.label_zh,
            "label_en": category.label_en,
            "label": category.label,
        }

    return {
        "categories": [
            {**entry(c), "children": [entry(child) for child in children.get(c.id, [])]}
            for c in rows
            if c.parent_id is None
        ]
    }


@bp.get("/privacy-notice")
def current_privacy_notice() -> Any:
    return privacy_notice().as_dict()


@bp.get("/openapi.json")
def openapi() -> Any:
    from workroom.api.openapi import openapi_document

    return openapi_document(current_app.config["PUBLIC_URL"])
