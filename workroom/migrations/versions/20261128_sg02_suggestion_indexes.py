"""suggestion list indexes

Revision ID: sg02
Revises: sg01
Create Date: 2026-11-28 07:55:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "sg02"
down_revision = "sg01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("suggestion", schema=None) as batch_op:
        batch_op.create_index("ix_suggestion_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_suggestion_status_created", ["status", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_suggestion_status_due", ["status", "reply_due", "accept_due"], unique=False
        )
    with op.batch_alter_table("suggestion_agency", schema=None) as batch_op:
        batch_op.create_index(
            "ix_suggestion_agency_agency", ["agency_id", "suggestion_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("suggestion_agency", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_agency_agency")
    with op.batch_alter_table("suggestion", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_status_due")
        batch_op.drop_index("ix_suggestion_status_created")
        batch_op.drop_index("ix_suggestion_created")
