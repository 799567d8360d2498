"""engine: faster instance steps

Revision ID: e9e1e7000002
Revises: 1ed9e7000002
Create Date: 2026-11-28 13:03:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e9e1e7000002"
down_revision = "1ed9e7000002"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder: filled in by the change that needs it


def downgrade():
    pass
