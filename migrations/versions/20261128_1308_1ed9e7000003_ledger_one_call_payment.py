"""ledger: a payment posted in one call

Revision ID: 1ed9e7000003
Revises: e9a0e7000003
Create Date: 2026-11-28 13:08:00
"""

from alembic import op  # noqa: F401

revision = "1ed9e7000003"
down_revision = "e9a0e7000003"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
