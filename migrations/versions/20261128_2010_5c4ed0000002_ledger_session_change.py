"""ledger: reserved for this session's ledger change

Revision ID: 5c4ed0000002
Revises: 5c4ed0000001
Create Date: 2026-11-28 20:10:00
"""

revision = "5c4ed0000002"
down_revision = "5c4ed0000001"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
