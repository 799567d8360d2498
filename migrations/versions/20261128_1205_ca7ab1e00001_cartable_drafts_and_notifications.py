"""cartable: work item drafts and in-app notifications

Revision ID: ca7ab1e00001
Revises: 1ed9e7000001
Create Date: 2026-11-28 12:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "ca7ab1e00001"
down_revision = "1ed9e7000001"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    open_only = sa.text("status = 'open'")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft", sa.JSON(), nullable=True))
        batch_op.create_index("ix_work_items_open_role", ["role_code", "region_id", "due_at"], unique=False,
                              postgresql_where=open_only, sqlite_where=open_only)
        batch_op.create_index("ix_work_items_open_assignee", ["assignee_id"], unique=False,
                              postgresql_where=open_only, sqlite_where=open_only)
        batch_op.create_index("ix_work_items_open_claimed", ["claimed_by_id"], unique=False,
                              postgresql_where=open_only, sqlite_where=open_only)
    op.create_table(
        "notifications",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("work_item_id", BIGINT, nullable=True),
        sa.Column("instance_id", BIGINT, nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"],
                                name=op.f("fk_notifications_instance_id_process_instances")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_items.id"],
                                name=op.f("fk_notifications_work_item_id_work_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_unread", ["user_id", "read_at"], unique=False)


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_unread")
    op.drop_table("notifications")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index("ix_work_items_open_claimed")
        batch_op.drop_index("ix_work_items_open_assignee")
        batch_op.drop_index("ix_work_items_open_role")
        batch_op.drop_column("draft")
