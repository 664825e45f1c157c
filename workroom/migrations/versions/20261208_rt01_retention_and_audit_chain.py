"""retention of suggestions and messages, the audit log's hash chain

suggestion.purged_at and outbox_message.purged_at mark what the retention purge has
done; audit_event gains its position in the hash chain and its seal, and audit_chain
holds the chain's anchor, head and last verification.

Revision ID: rt01
Revises: sgrt01
Create Date: 2026-12-08 00:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "rt01"
down_revision = "sgrt01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("suggestion") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("chain_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("seal", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_audit_event_chain_index", ["chain_index"])
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("anchor_index", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("anchor_seal", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("anchored_at", sa.DateTime(), nullable=True),
        sa.Column("head_index", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("head_seal", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("head_event_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("head_at", sa.DateTime(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("check_ok", sa.Boolean(), nullable=True),
        sa.Column("check_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("check_summary", sa.String(length=500), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )


def downgrade():
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint("uq_audit_event_chain_index", type_="unique")
        batch.drop_column("seal")
        batch.drop_column("chain_index")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("purged_at")
    with op.batch_alter_table("suggestion") as batch:
        batch.drop_column("purged_at")
