"""Staff accounts and roles (Flask-Security-Too models with our scope columns)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_security import RoleMixin, UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workroom.clock import utcnow
from workroom.db import Timestamped, db

if TYPE_CHECKING:
    from workroom.people.models import Agency, Deputy
    from workroom.places.models import Workroom

user_role = sa.Table(
    "user_role",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_id", sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)

# The workrooms a liaison runs.
user_workroom = sa.Table(
    "user_workroom",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("workroom_id", sa.ForeignKey("workroom.id", ondelete="CASCADE"), primary_key=True),
)


class Role(db.Model, RoleMixin):
    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    permissions: Mapped[str | None] = mapped_column(sa.Text)
    update_datetime: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def get_permissions(self) -> set[str]:
        return set()


class User(Timestamped, db.Model, UserMixin):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(60), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(60), default="")
    # Staff accounts need no email; Flask-Security only reads it.
    email: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    password: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    fs_uniquifier: Mapped[str] = mapped_column(sa.String(64), unique=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column()
    last_login_at: Mapped[dt.datetime | None] = mapped_column()
    current_login_at: Mapped[dt.datetime | None] = mapped_column()
    last_login_ip: Mapped[str | None] = mapped_column(sa.String(64))
    current_login_ip: Mapped[str | None] = mapped_column(sa.String(64))
    login_count: Mapped[int | None] = mapped_column()
    # The user must choose a new password at the next sign-in (after an admin reset).
    password_change_required: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column()
    # Preferred interface language; None follows the browser.
    locale: Mapped[str | None] = mapped_column(sa.String(20))
    # Scope: the deputy this account belongs to, or the agency it handles for.
    deputy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deputy.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"), index=True)

    roles: Mapped[list[Role]] = relationship(secondary=user_role, lazy="selectin")
    # Domain models are named by string so that auth sits below places and people.
    workrooms: Mapped[list[Workroom]] = relationship(
        "Workroom", secondary=user_workroom, order_by="Workroom.name"
    )
    deputy: Mapped[Deputy | None] = relationship("Deputy")
    agency: Mapped[Agency | None] = relationship("Agency")

    @property
    def role(self) -> str | None:
        """The account's role; Workroom gives each account exactly one."""
        return self.roles[0].name if self.roles else None

    def is_locked(self, form_error: list[str] | None = None) -> bool:
        # Flask-Security's lockout hook, called after the password was verified.
        from workroom.auth.accounts import account_locked

        return account_locked(self, utcnow(), form_error)

    def __str__(self) -> str:
        return self.display_name or self.username
