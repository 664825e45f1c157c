"""Create and change categories. Nothing is deleted: visits and suggestions point here."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workroom.audit.log import record, set_active
from workroom.categories.models import Category
from workroom.db import db
from workroom.errors import DomainError

_CODE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
POSITION_RANGE = (0, 9999)


def _label(value: str, field: str, limit: int, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(missing, field)
    if len(value) > limit:
        raise DomainError(_l("Use at most %(n)s characters.", n=limit), field)
    return value


def _labels(label_zh: str, label_en: str) -> tuple[str, str]:
    return (
        _label(label_zh, "label_zh", 60, _l("Enter the Chinese label.")),
        _label(label_en, "label_en", 80, _l("Enter the English label.")),
    )


def _position(position: int | None) -> int:
    position = position or 0
    if not POSITION_RANGE[0] <= position <= POSITION_RANGE[1]:
        raise DomainError(_l("Enter a number from 0 to 9999."), "position")
    return position


def create_category(
    *,
    code: str,
    label_zh: str,
    label_en: str,
    parent: Category | None = None,
    position: int | None = 0,
) -> Category:
    """Create a top-level category, or a sub-category when ``parent`` is given.

    Raises DomainError for a malformed or taken code, a missing label, or a parent that
    is itself a sub-category (the tree is two levels deep).
    """
    label_zh, label_en = _labels(label_zh, label_en)
    code = (code or "").strip().lower()
    if not _CODE.match(code):
        raise DomainError(
            _l(
                "Use lower-case letters, digits and dashes, such as %(example)s.",
                example="urban-roads",
            ),
            "code",
        )
    if db.session.scalar(sa.select(Category.id).where(Category.code == code)) is not None:
        raise DomainError(_l("This code is already in use."), "code")
    if parent is not None and parent.parent_id is not None:
        raise DomainError(
            _l("Categories are two levels deep: choose a top-level category as the parent."),
            "parent_id",
        )
    category = Category(
        code=code,
        label_zh=label_zh,
        label_en=label_en,
        parent=parent,
        position=_position(position),
        active=True,
    )
    db.session.add(category)
    db.session.flush()
    record("category.create", category, summary=f"{label_zh} ({code})")
    return category


def update_category(
    category: Category, *, label_zh: str, label_en: str, position: int | None, active: bool
) -> None:
    """Change a category's labels, position and status; its code and parent never change."""
    category.label_zh, category.label_en = _labels(label_zh, label_en)
    category.position = _position(position)
    set_active(category, active, "category", summary=category.label_zh)
    record("category.update", category, summary=f"{category.label_zh} ({category.code})")
