"""reports: export jobs

Revision ID: e9a0e7000001
Revises: b111e7000001
Create Date: 2026-11-28 13:01:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e9a0e7000001"
down_revision = "b111e7000001"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder: filled in by the change that needs it


def downgrade():
    pass
