"""reports: faster first pages (outages, broken meters)

Revision ID: e9a0e7000003
Revises: b111e7000002
Create Date: 2026-11-28 13:07:00
"""

from alembic import op  # noqa: F401

revision = "e9a0e7000003"
down_revision = "b111e7000002"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
