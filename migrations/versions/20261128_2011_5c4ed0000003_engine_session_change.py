"""engine: reserved for this session's engine change

Revision ID: 5c4ed0000003
Revises: 5c4ed0000002
Create Date: 2026-11-28 20:11:00
"""

revision = "5c4ed0000003"
down_revision = "5c4ed0000002"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
