"""modeler: process drafts

Revision ID: d4af7500001
Revises: ca7ab1e00001
Create Date: 2026-11-28 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d4af7500001"
down_revision = "ca7ab1e00001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "process_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("base_version_id", sa.Integer(), nullable=True),
        sa.Column("bpmn", sa.Text(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("simulation", sa.JSON(), nullable=True),
        sa.Column("deployed_version_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_version_id"], ["process_versions.id"],
                                name=op.f("fk_process_drafts_base_version_id_process_versions")),
        sa.ForeignKeyConstraint(["deployed_version_id"], ["process_versions.id"],
                                name=op.f("fk_process_drafts_deployed_version_id_process_versions")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_process_drafts_created_by_id_users")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_process_drafts_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_drafts")),
    )
    with op.batch_alter_table("process_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_drafts_process_key"), ["process_key"], unique=False)


def downgrade():
    with op.batch_alter_table("process_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_drafts_process_key"))
    op.drop_table("process_drafts")
