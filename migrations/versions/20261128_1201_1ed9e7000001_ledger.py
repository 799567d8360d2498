"""ledger

Revision ID: 1ed9e7000001
Revises: 5b5c71be0001
Create Date: 2026-11-28 12:01:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "1ed9e7000001"
down_revision = "5b5c71be0001"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
