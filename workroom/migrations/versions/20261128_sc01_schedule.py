"""reception scheduling

Revision ID: sc01
Revises: ob01
"""

import sqlalchemy as sa
from alembic import op

revision = "sc01"
down_revision = "ob01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reception_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workroom_id", sa.Integer(), nullable=False),
        sa.Column("rrule", sa.String(length=200), nullable=False),
        sa.Column("starts_at_time", sa.Time(), nullable=False),
        sa.Column("ends_at_time", sa.Time(), nullable=False),
        sa.Column("deputies_needed", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("on_non_working_day", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "deputies_needed >= 1 AND deputies_needed <= 10",
            name=op.f("ck_reception_rule_deputies_needed_range"),
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_reception_rule_capacity_not_negative")),
        sa.CheckConstraint(
            "ends_at_time > starts_at_time", name=op.f("ck_reception_rule_time_order")
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from",
            name=op.f("ck_reception_rule_validity_order"),
        ),
        sa.CheckConstraint(
            "on_non_working_day IN ('skip', 'next_working_day')",
            name=op.f("ck_reception_rule_non_working_day_policy"),
        ),
        sa.ForeignKeyConstraint(
            ["workroom_id"], ["workroom.id"], name=op.f("fk_reception_rule_workroom_id_workroom")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reception_rule")),
    )
    with op.batch_alter_table("reception_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reception_rule_workroom_id"), ["workroom_id"], unique=False
        )

    op.create_table(
        "reception_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workroom_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("deputies_needed", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("unfilled", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_reception_day_time_order")),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'cancelled')",
            name=op.f("ck_reception_day_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["reception_rule.id"],
            name=op.f("fk_reception_day_rule_id_reception_rule"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workroom_id"], ["workroom.id"], name=op.f("fk_reception_day_workroom_id_workroom")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reception_day")),
        sa.UniqueConstraint(
            "workroom_id",
            "day",
            "starts_at",
            name=op.f("uq_reception_day_workroom_id_day_starts_at"),
        ),
    )
    with op.batch_alter_table("reception_day", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reception_day_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_reception_day_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reception_day_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reception_day_workroom_id"), ["workroom_id"], unique=False
        )

    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reception_day_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('assigned', 'confirmed', 'declined')",
            name=op.f("ck_assignment_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_assignment_deputy_id_deputy")
        ),
        sa.ForeignKeyConstraint(
            ["reception_day_id"],
            ["reception_day.id"],
            name=op.f("fk_assignment_reception_day_id_reception_day"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
        sa.UniqueConstraint(
            "reception_day_id", "deputy_id", name=op.f("uq_assignment_reception_day_id_deputy_id")
        ),
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_deputy_id"), ["deputy_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assignment_reception_day_id"), ["reception_day_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_reception_day_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_deputy_id"))

    op.drop_table("assignment")
    with op.batch_alter_table("reception_day", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reception_day_workroom_id"))
        batch_op.drop_index(batch_op.f("ix_reception_day_status"))
        batch_op.drop_index(batch_op.f("ix_reception_day_rule_id"))
        batch_op.drop_index(batch_op.f("ix_reception_day_day"))

    op.drop_table("reception_day")
    with op.batch_alter_table("reception_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reception_rule_workroom_id"))

    op.drop_table("reception_rule")
