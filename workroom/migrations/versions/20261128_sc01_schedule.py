"""reception scheduling

Revision ID: sc01
Revises: ob01
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "sc01"
down_revision = "ob01"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
