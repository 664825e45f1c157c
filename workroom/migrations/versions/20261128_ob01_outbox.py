"""outbox and job runner

Revision ID: ob01
Revises: wd01
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "ob01"
down_revision = "wd01"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
