"""ledger: accounts, journals and postings, payments, open items, grace periods, installment plans

Revision ID: 1ed9e7000001
Revises: 5b5c71be0001
Create Date: 2026-11-28 12:01:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1ed9e7000001"
down_revision = "5b5c71be0001"
branch_labels = None
depends_on = None

# Money once posted is never changed: PostgreSQL refuses UPDATE and DELETE on these tables.
APPEND_ONLY = ("ledger_journals", "ledger_postings", "ledger_payments", "ledger_charges", "ledger_allocations")

TRIGGERS = """
CREATE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
""" + "".join(f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
""" for table in APPEND_ONLY) + """
-- At commit, every journal that received postings must sum to exactly zero.
CREATE FUNCTION ledger_journal_balances() RETURNS trigger AS $$
BEGIN
    IF (SELECT SUM(amount) FROM ledger_postings WHERE journal_id = NEW.journal_id) <> 0 THEN
        RAISE EXCEPTION 'journal % does not balance', NEW.journal_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER ledger_postings_balance AFTER INSERT ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_journal_balances();
"""


def upgrade():
    op.create_table('ledger_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('bill_id', sa.String(length=13), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_ledger_accounts_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('bill_id', name=op.f('uq_ledger_accounts_bill_id')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_accounts_code')),
    sa.UniqueConstraint('contract_id', name=op.f('uq_ledger_accounts_contract_id'))
    )
    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_accounts_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_accounts_region_id'), ['region_id'], unique=False)

    op.create_table('ledger_journals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('idempotency_key', sa.String(length=120), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ledger_journals_actor_id_users')),
    sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name=op.f('fk_ledger_journals_approver_id_users')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_journals.id'], name=op.f('fk_ledger_journals_reverses_id_ledger_journals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_journals')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_journals_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_journals_reverses_id'))
    )
    with op.batch_alter_table('ledger_journals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_journals_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_journals_kind'), ['kind'], unique=False)

    op.create_table('ledger_charges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('journal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('bill_id', sa.String(length=13), nullable=False),
    sa.Column('payment_id', sa.String(length=13), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_charges_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_charges_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journals.id'], name=op.f('fk_ledger_charges_journal_id_ledger_journals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_charges'))
    )
    with op.batch_alter_table('ledger_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_charges_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_charges_journal_id'), ['journal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_charges_payment_id'), ['payment_id'], unique=False)

    op.create_table('ledger_grace_periods',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_grace_periods_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_grace_periods_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name=op.f('fk_ledger_grace_periods_approver_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_grace_periods'))
    )
    with op.batch_alter_table('ledger_grace_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_grace_periods_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_grace_periods_due_on'), ['due_on'], unique=False)

    op.create_table('ledger_installment_plans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('down_payment_percent', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total > 0', name=op.f('ck_ledger_installment_plans_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_installment_plans_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name=op.f('fk_ledger_installment_plans_approver_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_installment_plans'))
    )
    with op.batch_alter_table('ledger_installment_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_installment_plans_account_id'), ['account_id'], unique=False)

    op.create_table('ledger_payments',
    sa.Column('journal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('bill_id', sa.String(length=13), nullable=False),
    sa.Column('payment_id', sa.String(length=13), nullable=False),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journals.id'], name=op.f('fk_ledger_payments_journal_id_ledger_journals')),
    sa.PrimaryKeyConstraint('journal_id', name=op.f('pk_ledger_payments')),
    sa.UniqueConstraint('channel', 'reference', name=op.f('uq_ledger_payments_channel_reference'))
    )
    with op.batch_alter_table('ledger_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_payments_contract_id'), ['contract_id'], unique=False)

    op.create_table('ledger_postings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('journal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.String(length=64), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_ledger_postings_nonzero')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_postings_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journals.id'], name=op.f('fk_ledger_postings_journal_id_ledger_journals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_postings'))
    )
    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_postings_account_journal', ['account_id', 'journal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_postings_journal_id'), ['journal_id'], unique=False)

    op.create_table('ledger_allocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('charge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('journal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_ledger_allocations_nonzero')),
    sa.ForeignKeyConstraint(['charge_id'], ['ledger_charges.id'], name=op.f('fk_ledger_allocations_charge_id_ledger_charges')),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journals.id'], name=op.f('fk_ledger_allocations_journal_id_ledger_journals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_allocations'))
    )
    with op.batch_alter_table('ledger_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_allocations_charge_id'), ['charge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_allocations_journal_id'), ['journal_id'], unique=False)

    op.create_table('ledger_installments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('payment_id', sa.String(length=13), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_installments_positive')),
    sa.ForeignKeyConstraint(['plan_id'], ['ledger_installment_plans.id'], name=op.f('fk_ledger_installments_plan_id_ledger_installment_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_installments')),
    sa.UniqueConstraint('plan_id', 'seq', name=op.f('uq_ledger_installments_plan_id_seq'))
    )
    with op.batch_alter_table('ledger_installments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_installments_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_installments_plan_id'), ['plan_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(TRIGGERS)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_balance ON ledger_postings")
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_journal_balances()")
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
    with op.batch_alter_table('ledger_installments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_installments_plan_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_installments_payment_id'))

    op.drop_table('ledger_installments')
    with op.batch_alter_table('ledger_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_allocations_journal_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_allocations_charge_id'))

    op.drop_table('ledger_allocations')
    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_postings_journal_id'))
        batch_op.drop_index('ix_ledger_postings_account_journal')

    op.drop_table('ledger_postings')
    with op.batch_alter_table('ledger_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_payments_contract_id'))

    op.drop_table('ledger_payments')
    with op.batch_alter_table('ledger_installment_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_installment_plans_account_id'))

    op.drop_table('ledger_installment_plans')
    with op.batch_alter_table('ledger_grace_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_grace_periods_due_on'))
        batch_op.drop_index(batch_op.f('ix_ledger_grace_periods_account_id'))

    op.drop_table('ledger_grace_periods')
    with op.batch_alter_table('ledger_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_charges_payment_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_charges_journal_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_charges_account_id'))

    op.drop_table('ledger_charges')
    with op.batch_alter_table('ledger_journals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_journals_kind'))
        batch_op.drop_index(batch_op.f('ix_ledger_journals_contract_id'))

    op.drop_table('ledger_journals')
    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_accounts_region_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_accounts_kind'))

    op.drop_table('ledger_accounts')
