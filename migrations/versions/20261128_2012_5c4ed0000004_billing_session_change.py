"""billing: reserved for this session's billing-run change

Revision ID: 5c4ed0000004
Revises: 5c4ed0000003
Create Date: 2026-11-28 20:12:00
"""

revision = "5c4ed0000004"
down_revision = "5c4ed0000003"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
