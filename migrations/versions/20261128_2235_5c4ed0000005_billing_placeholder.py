"""placeholder revision reserved for this session's work (billing); replaced or removed before the session ends

Revision ID: 5c4ed0000005
Revises: 5c4ed0000004
Create Date: 2026-11-28 22:35:00
"""

revision = "5c4ed0000005"
down_revision = "5c4ed0000004"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
