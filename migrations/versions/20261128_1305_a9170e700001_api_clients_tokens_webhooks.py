"""api: integration clients, tokens, webhooks and their deliveries

Revision ID: a9170e700001
Revises: d0c0e7000001
Create Date: 2026-11-28 13:05:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "a9170e700001"
down_revision = "d0c0e7000001"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder: filled in by the change that needs it


def downgrade():
    pass
