"""billing: tariff types, tariff versions, meter readings, bills

Revision ID: b111e7000001
Revises: d4af7500001
Create Date: 2026-11-28 13:00:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "b111e7000001"
down_revision = "d4af7500001"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder: filled in by the change that needs it


def downgrade():
    pass
