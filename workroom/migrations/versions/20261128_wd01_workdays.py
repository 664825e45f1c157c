"""working-day calendar

Revision ID: wd01
Revises: 15c1843aec32
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "wd01"
down_revision = "15c1843aec32"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
