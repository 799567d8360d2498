"""cartable: documents attached to requests

Revision ID: d0c0e7000001
Revises: e9e1e7000002
Create Date: 2026-11-28 13:04:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "d0c0e7000001"
down_revision = "e9e1e7000002"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder: filled in by the change that needs it


def downgrade():
    pass
