"""engine: fewer round trips per step (no schema change)

A step's writes on PostgreSQL now go in one statement (engine/runtime.py, `_step_sql`); its INSERT of work
items uses ON CONFLICT on the existing partial unique index `uq_work_items_open_task` (instance_id, task_id
WHERE status = 'open'), so no new DDL was needed. The revision is kept (empty) so that the chain of this
session's revisions stays as announced.

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
