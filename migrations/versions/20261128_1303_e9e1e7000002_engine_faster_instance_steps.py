"""engine: faster instance steps (and cartable: an index of the unassigned, unclaimed open work items)

Revision ID: e9e1e7000002
Revises: 1ed9e7000002
Create Date: 2026-11-28 13:03:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e9e1e7000002"
down_revision = "1ed9e7000002"
branch_labels = None
depends_on = None


UNCLAIMED = "status = 'open' AND assignee_id IS NULL AND claimed_by_id IS NULL"


def upgrade():
    op.create_index("ix_work_items_open_unclaimed", "work_items", ["role_code", "region_id", "due_at", "id"],
                    unique=False, postgresql_where=sa.text(UNCLAIMED), sqlite_where=sa.text(UNCLAIMED))


def downgrade():
    op.drop_index("ix_work_items_open_unclaimed", table_name="work_items")
