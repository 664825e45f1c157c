"""calendar feeds and reminders

Revision ID: sc03
Revises: sc02
"""

import sqlalchemy as sa
from alembic import op

revision = "sc03"
down_revision = "sc02"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "deputy_feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_deputy_feed_token_deputy_id_deputy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deputy_feed_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_deputy_feed_token_token_hash")),
    )
    with op.batch_alter_table("deputy_feed_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deputy_feed_token_deputy_id"), ["deputy_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("deputy_feed_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deputy_feed_token_deputy_id"))
    op.drop_table("deputy_feed_token")
