"""placeholder revision reserved for this session's work; replaced or removed before the session ends

Revision ID: 5c4ed0000007
Revises: 5c4ed0000006
Create Date: 2026-11-28 22:37:00
"""

revision = "5c4ed0000007"
down_revision = "5c4ed0000006"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
