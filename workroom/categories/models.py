"""The two-level taxonomy of citizens' concerns shared by visits and suggestions."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workroom.db import Timestamped, db


class Category(Timestamped, db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable: used by the API, routing rules and reports.
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"), index=True)
    label_zh: Mapped[str] = mapped_column(sa.String(60))
    label_en: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.position"
    )

    @property
    def label(self) -> str:
        locale = get_locale()
        return self.label_en if locale is not None and locale.language == "en" else self.label_zh

    def __str__(self) -> str:
        return self.label


def category_subtree_ids(category_id: int) -> sa.Select:
    """The ids of category ``category_id`` and of its sub-categories, for
    ``column.in_(...)`` (the catalog keeps the tree two levels deep). Never correlated,
    so a query that joins the category table gets the whole subtree too."""
    return (
        sa.select(Category.id)
        .where(sa.or_(Category.id == category_id, Category.parent_id == category_id))
        .correlate(None)
    )
