"""placeholder revision reserved for this session's work (ledger); replaced or removed before the session ends

Revision ID: 5c4ed0000006
Revises: 5c4ed0000005
Create Date: 2026-11-28 22:36:00
"""

revision = "5c4ed0000006"
down_revision = "5c4ed0000005"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
