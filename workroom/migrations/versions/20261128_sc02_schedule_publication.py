"""reception days after publication (swaps, changes)

Revision ID: sc02
Revises: sc01
"""

import sqlalchemy as sa
from alembic import op

revision = "sc02"
down_revision = "sc01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "swap_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workroom_id", sa.Integer(), nullable=False),
        sa.Column("reception_day_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("substitute_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused', 'withdrawn')",
            name=op.f("ck_swap_request_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user.id"], name=op.f("fk_swap_request_decided_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_swap_request_deputy_id_deputy")
        ),
        sa.ForeignKeyConstraint(
            ["reception_day_id"],
            ["reception_day.id"],
            name=op.f("fk_swap_request_reception_day_id_reception_day"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["substitute_id"], ["deputy.id"], name=op.f("fk_swap_request_substitute_id_deputy")
        ),
        sa.ForeignKeyConstraint(
            ["workroom_id"], ["workroom.id"], name=op.f("fk_swap_request_workroom_id_workroom")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swap_request")),
    )
    with op.batch_alter_table("swap_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_swap_request_deputy_id"), ["deputy_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_swap_request_reception_day_id"), ["reception_day_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_swap_request_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_swap_request_workroom_id"), ["workroom_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("swap_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_swap_request_workroom_id"))
        batch_op.drop_index(batch_op.f("ix_swap_request_status"))
        batch_op.drop_index(batch_op.f("ix_swap_request_reception_day_id"))
        batch_op.drop_index(batch_op.f("ix_swap_request_deputy_id"))

    op.drop_table("swap_request")
