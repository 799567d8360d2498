"""subscriber registry

Revision ID: 5b5c71be0001
Revises: d5d38e918ba5
Create Date: 2026-11-28 12:00:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "5b5c71be0001"
down_revision = "d5d38e918ba5"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
