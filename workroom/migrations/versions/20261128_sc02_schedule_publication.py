"""reception days after publication (swaps, changes)

Revision ID: sc02
Revises: sc01
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "sc02"
down_revision = "sc01"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
