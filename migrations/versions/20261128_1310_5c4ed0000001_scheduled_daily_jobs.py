"""core: daily jobs claimed once a day (the disconnection rule first)

Revision ID: 5c4ed0000001
Revises: 1ed9e7000003
Create Date: 2026-11-28 13:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5c4ed0000001"
down_revision = "1ed9e7000003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduled_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduled_runs")),
    )


def downgrade():
    op.drop_table("scheduled_runs")
