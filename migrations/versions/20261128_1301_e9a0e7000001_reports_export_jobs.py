"""reports: export jobs, and the indexes the reports read by

Revision ID: e9a0e7000001
Revises: b111e7000001
Create Date: 2026-11-28 13:01:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e9a0e7000001"
down_revision = "b111e7000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_exports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('report_key', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('done_rows', sa.Integer(), nullable=False),
    sa.Column('queue_job_id', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_exports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_exports'))
    )
    op.create_index('ix_report_exports_user_created', 'report_exports', ['user_id', 'created_at'], unique=False)
    op.create_index('ix_report_accounts_kind_balance', 'ledger_accounts', ['kind', 'balance', 'id', 'region_id'], unique=False)
    op.create_index('ix_report_payments_paid_on', 'ledger_payments', ['paid_on'], unique=False)
    op.create_index('ix_report_audit_object', 'audit_log', ['object_type', 'object_id'], unique=False)
    op.create_index('ix_report_outages_starts_at', 'outages', ['starts_at'], unique=False)
    op.create_index('ix_report_journals_reversals', 'ledger_journals', ['reverses_id'], unique=False,
                    postgresql_where=sa.text('reverses_id IS NOT NULL'), sqlite_where=sa.text('reverses_id IS NOT NULL'))


def downgrade():
    op.drop_index('ix_report_journals_reversals', table_name='ledger_journals')
    op.drop_index('ix_report_outages_starts_at', table_name='outages')
    op.drop_index('ix_report_audit_object', table_name='audit_log')
    op.drop_index('ix_report_payments_paid_on', table_name='ledger_payments')
    op.drop_index('ix_report_accounts_kind_balance', table_name='ledger_accounts')
    op.drop_index('ix_report_exports_user_created', table_name='report_exports')
    op.drop_table('report_exports')
