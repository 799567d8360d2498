"""reports: reserved for this session's reports change

Revision ID: 5c4ed0000005
Revises: 5c4ed0000004
Create Date: 2026-11-28 20:13:00
"""

revision = "5c4ed0000005"
down_revision = "5c4ed0000004"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
