"""cartable: documents attached to requests

A document may belong to a request (a procedure instance) before its subscriber exists — identity papers
for a new subscriber — so the subscriber becomes optional, and a check keeps every document owned by a
subscriber, a request or both.

Revision ID: d0c0e7000001
Revises: e9e1e7000002
Create Date: 2026-11-28 13:04:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d0c0e7000001"
down_revision = "e9e1e7000002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("documents") as batch:
        batch.alter_column("subscriber_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                           nullable=True)
        batch.create_check_constraint("owner", "subscriber_id IS NOT NULL OR request_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table("documents") as batch:
        batch.drop_constraint("ck_documents_owner", type_="check")
        batch.alter_column("subscriber_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                           nullable=False)
