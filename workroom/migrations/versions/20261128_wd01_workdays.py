"""working-day calendar

Revision ID: wd01
Revises: 15c1843aec32
"""

import sqlalchemy as sa
from alembic import op

revision = "wd01"
down_revision = "15c1843aec32"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("notice", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('holiday', 'workday')", name=op.f("ck_calendar_adjustment_kind")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_calendar_adjustment_created_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_adjustment")),
        sa.UniqueConstraint("day", name=op.f("uq_calendar_adjustment_day")),
    )
    op.create_table(
        "confirmed_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["user.id"], name=op.f("fk_confirmed_year_confirmed_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmed_year")),
        sa.UniqueConstraint("year", name=op.f("uq_confirmed_year_year")),
    )


def downgrade():
    op.drop_table("confirmed_year")
    op.drop_table("calendar_adjustment")
