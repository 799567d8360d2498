"""engine: fewer round trips per step

Revision ID: e9e1e7000003
Revises: 1ed9e7000003
Create Date: 2026-11-28 13:09:00
"""

from alembic import op  # noqa: F401

revision = "e9e1e7000003"
down_revision = "1ed9e7000003"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
