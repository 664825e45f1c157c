"""calendar feeds and reminders

Revision ID: sc03
Revises: sc02
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "sc03"
down_revision = "sc02"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
