"""ledger: faster payment posting

Revision ID: 1ed9e7000002
Revises: e9a0e7000001
Create Date: 2026-11-28 13:02:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "1ed9e7000002"
down_revision = "e9a0e7000001"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder: filled in by the change that needs it


def downgrade():
    pass
