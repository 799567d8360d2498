"""workflow engine: process versions, instances, work items, timers, messages, events

Revision ID: d5d38e918ba5
Revises: dd05f3561bf6
Create Date: 2026-11-28 11:41:44.401189
"""

import sqlalchemy as sa
from alembic import op

revision = 'd5d38e918ba5'
down_revision = 'dd05f3561bf6'
branch_labels = None
depends_on = None


# The instance event log is append-only: PostgreSQL refuses to change or remove a row.
EVENTS_TRIGGER = """
CREATE FUNCTION instance_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'instance_events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER instance_events_append_only BEFORE UPDATE OR DELETE ON instance_events
    FOR EACH ROW EXECUTE FUNCTION instance_events_append_only();
"""


def upgrade():
    op.create_table('business_key_sequences',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_business_key_sequences'))
    )
    op.create_table('process_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('bpmn', sa.Text(), nullable=False),
    sa.Column('forms', sa.JSON(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('deployed_by_id', sa.Integer(), nullable=True),
    sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['deployed_by_id'], ['users.id'], name=op.f('fk_process_versions_deployed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_versions')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_process_versions_content_hash')),
    sa.UniqueConstraint('process_key', 'version', name=op.f('uq_process_versions_process_key_version'))
    )
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_versions_process_key'), ['process_key'], unique=False)

    op.create_table('process_instances',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('business_key', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('initiator_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.LargeBinary(), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('error_task', sa.String(length=100), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('suspended_from', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_progress_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['initiator_id'], ['users.id'], name=op.f('fk_process_instances_initiator_id_users')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_process_instances_region_id_regions')),
    sa.ForeignKeyConstraint(['version_id'], ['process_versions.id'], name=op.f('fk_process_instances_version_id_process_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_instances')),
    sa.UniqueConstraint('business_key', name=op.f('uq_process_instances_business_key'))
    )
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_instances_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_last_progress_at'), ['last_progress_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_process_key'), ['process_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_subscriber_id'), ['subscriber_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_version_id'), ['version_id'], unique=False)

    op.create_table('instance_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('task_name', sa.String(length=100), nullable=True),
    sa.Column('work_item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_instance_events_actor_id_users')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_instance_events_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_events'))
    )
    with op.batch_alter_table('instance_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_events_instance_id'), ['instance_id'], unique=False)

    op.create_table('message_waits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('business_key', sa.String(length=32), nullable=False),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_message_waits_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_waits')),
    sa.UniqueConstraint('instance_id', 'task_id', name=op.f('uq_message_waits_instance_id_task_id'))
    )
    with op.batch_alter_table('message_waits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_waits_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_message_waits_lookup', ['name', 'business_key', 'contract_id'], unique=False)

    op.create_table('operation_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('operation', sa.String(length=100), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_operation_runs_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation_runs')),
    sa.UniqueConstraint('instance_id', 'task_id', 'operation', name=op.f('uq_operation_runs_instance_id_task_id_operation'))
    )
    with op.batch_alter_table('operation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_runs_instance_id'), ['instance_id'], unique=False)

    op.create_table('process_timers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('task_name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_process_timers_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_timers'))
    )
    with op.batch_alter_table('process_timers', schema=None) as batch_op:
        batch_op.create_index('ix_process_timers_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_timers_instance_id'), ['instance_id'], unique=False)

    op.create_table('work_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('task_name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('role_code', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('form_key', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_work_items_assignee_id_users')),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['users.id'], name=op.f('fk_work_items_claimed_by_id_users')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name=op.f('fk_work_items_completed_by_id_users')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_work_items_instance_id_process_instances')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_work_items_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_items'))
    )
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_items_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_items_claimed_by_id'), ['claimed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_items_due_at'), ['due_at'], unique=False)
        batch_op.create_index('ix_work_items_inbox', ['status', 'role_code', 'region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_items_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('uq_work_items_open_task', ['instance_id', 'task_id'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

    if op.get_bind().dialect.name == "postgresql":
        op.execute(EVENTS_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS instance_events_append_only ON instance_events")
        op.execute("DROP FUNCTION IF EXISTS instance_events_append_only()")
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('uq_work_items_open_task', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_work_items_instance_id'))
        batch_op.drop_index('ix_work_items_inbox')
        batch_op.drop_index(batch_op.f('ix_work_items_due_at'))
        batch_op.drop_index(batch_op.f('ix_work_items_claimed_by_id'))
        batch_op.drop_index(batch_op.f('ix_work_items_assignee_id'))

    op.drop_table('work_items')
    with op.batch_alter_table('process_timers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_timers_instance_id'))
        batch_op.drop_index('ix_process_timers_due')

    op.drop_table('process_timers')
    with op.batch_alter_table('operation_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_runs_instance_id'))

    op.drop_table('operation_runs')
    with op.batch_alter_table('message_waits', schema=None) as batch_op:
        batch_op.drop_index('ix_message_waits_lookup')
        batch_op.drop_index(batch_op.f('ix_message_waits_instance_id'))

    op.drop_table('message_waits')
    with op.batch_alter_table('instance_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_events_instance_id'))

    op.drop_table('instance_events')
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_instances_version_id'))
        batch_op.drop_index(batch_op.f('ix_process_instances_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_process_instances_status'))
        batch_op.drop_index(batch_op.f('ix_process_instances_region_id'))
        batch_op.drop_index(batch_op.f('ix_process_instances_process_key'))
        batch_op.drop_index(batch_op.f('ix_process_instances_last_progress_at'))
        batch_op.drop_index(batch_op.f('ix_process_instances_contract_id'))

    op.drop_table('process_instances')
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_versions_process_key'))

    op.drop_table('process_versions')
    op.drop_table('business_key_sequences')
