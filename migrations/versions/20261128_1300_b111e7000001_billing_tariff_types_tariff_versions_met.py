"""billing: tariff types, tariff versions, meter readings, bills

Revision ID: b111e7000001
Revises: d4af7500001
Create Date: 2026-11-28 13:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "b111e7000001"
down_revision = "d4af7500001"
branch_labels = None
depends_on = None

# A published tariff version and an issued bill never change: PostgreSQL refuses it too, beside the
# session guard in billing/models.py. A bill may only be cancelled (status and the cancel columns).
TRIGGERS = """
CREATE FUNCTION billing_frozen_rows() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'billing_tariff_versions' THEN
        IF OLD.status = 'published' THEN
            RAISE EXCEPTION 'tariff version % is published: % refused', OLD.id, TG_OP;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'bill % cannot be deleted', OLD.id;
    ELSIF OLD.status <> 'issued' OR NEW.status <> 'cancelled'
          OR (to_jsonb(NEW) - ARRAY['status', 'cancelled_at', 'cancelled_by_id', 'cancel_reason',
                                    'reversal_journal_id'])
             <> (to_jsonb(OLD) - ARRAY['status', 'cancelled_at', 'cancelled_by_id', 'cancel_reason',
                                       'reversal_journal_id']) THEN
        RAISE EXCEPTION 'bill % is %: only its cancellation may be written', OLD.id, OLD.status;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_tariff_versions_frozen BEFORE UPDATE OR DELETE ON billing_tariff_versions
    FOR EACH ROW EXECUTE FUNCTION billing_frozen_rows();
CREATE TRIGGER billing_bills_frozen BEFORE UPDATE OR DELETE ON billing_bills
    FOR EACH ROW EXECUTE FUNCTION billing_frozen_rows();
"""

# The standard tariff types (billing/tariffs.py STANDARD_TARIFF_TYPES): code, slug, Persian name.
STANDARD_TYPES = {
    "electricity": [("1", "residential", "خانگی"), ("2", "public", "عمومی"), ("3", "agricultural", "کشاورزی"),
                    ("4", "industrial", "صنعتی"), ("5", "commercial", "تجاری و سایر مصارف")],
    "water": [("1", "residential", "خانگی"), ("2", "public", "عمومی و دولتی"), ("3", "commercial", "تجاری"),
              ("4", "industrial", "صنعتی"), ("5", "agricultural", "کشاورزی و دامداری")],
    "gas": [("1", "residential", "خانگی"), ("2", "public", "عمومی"), ("3", "commercial", "تجاری"),
            ("4", "industrial", "صنعتی"), ("5", "agricultural", "کشاورزی")],
}


def upgrade():
    op.create_table('billing_tariff_types',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('utility', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('slug', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_tariff_types')),
    sa.UniqueConstraint('utility', 'code', name=op.f('uq_billing_tariff_types_utility_code')),
    sa.UniqueConstraint('utility', 'slug', name=op.f('uq_billing_tariff_types_utility_slug'))
    )
    op.create_table('billing_tariff_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tariff_type_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('is_example', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_billing_tariff_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_billing_tariff_versions_published_by_id_users')),
    sa.ForeignKeyConstraint(['tariff_type_id'], ['billing_tariff_types.id'], name=op.f('fk_billing_tariff_versions_tariff_type_id_billing_tariff_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_tariff_versions'))
    )
    op.create_index(op.f('ix_billing_tariff_versions_tariff_type_id'), 'billing_tariff_versions', ['tariff_type_id'], unique=False)
    op.create_index('uq_billing_tariff_versions_published', 'billing_tariff_versions', ['tariff_type_id', 'code', 'effective_from'], unique=True, postgresql_where=sa.text("status = 'published'"), sqlite_where=sa.text("status = 'published'"))
    op.create_table('billing_bills',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('tariff_type_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tariff_code', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('bill_id', sa.String(length=13), nullable=False),
    sa.Column('payment_id', sa.String(length=13), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('usage', sa.JSON(), nullable=False),
    sa.Column('readings', sa.JSON(), nullable=False),
    sa.Column('version_ids', sa.JSON(), nullable=False),
    sa.Column('quote', sa.JSON(), nullable=False),
    sa.Column('charges', sa.BigInteger(), nullable=False),
    sa.Column('vat', sa.BigInteger(), nullable=False),
    sa.Column('levies', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('brought_forward', sa.BigInteger(), nullable=False),
    sa.Column('rounding', sa.BigInteger(), nullable=False),
    sa.Column('payable', sa.BigInteger(), nullable=False),
    sa.Column('journal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('sequence', sa.SmallInteger(), nullable=False),
    sa.Column('replaces_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=False),
    sa.Column('reversal_journal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_billing_bills_cancelled_by_id_users')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_billing_bills_contract_id_contracts')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_billing_bills_issued_by_id_users')),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journals.id'], name=op.f('fk_billing_bills_journal_id_ledger_journals')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_billing_bills_region_id_regions')),
    sa.ForeignKeyConstraint(['replaces_id'], ['billing_bills.id'], name=op.f('fk_billing_bills_replaces_id_billing_bills')),
    sa.ForeignKeyConstraint(['reversal_journal_id'], ['ledger_journals.id'], name=op.f('fk_billing_bills_reversal_journal_id_ledger_journals')),
    sa.ForeignKeyConstraint(['tariff_type_id'], ['billing_tariff_types.id'], name=op.f('fk_billing_bills_tariff_type_id_billing_tariff_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_bills')),
    sa.UniqueConstraint('journal_id', name=op.f('uq_billing_bills_journal_id')),
    sa.UniqueConstraint('replaces_id', name=op.f('uq_billing_bills_replaces_id')),
    sa.UniqueConstraint('reversal_journal_id', name=op.f('uq_billing_bills_reversal_journal_id'))
    )
    op.create_index(op.f('ix_billing_bills_contract_id'), 'billing_bills', ['contract_id'], unique=False)
    op.create_index(op.f('ix_billing_bills_region_id'), 'billing_bills', ['region_id'], unique=False)
    op.create_index(op.f('ix_billing_bills_status'), 'billing_bills', ['status'], unique=False)
    op.create_index('uq_billing_bills_contract_period', 'billing_bills', ['contract_id', 'period'], unique=True, postgresql_where=sa.text("status = 'issued'"), sqlite_where=sa.text("status = 'issued'"))
    op.create_table('billing_meter_readings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('register', sa.String(length=16), nullable=False),
    sa.Column('read_on', sa.Date(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('consumption', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reader_name', sa.String(length=100), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('opening', sa.Boolean(), nullable=False),
    sa.Column('override_reason', sa.String(length=500), nullable=False),
    sa.Column('overridden_by_id', sa.Integer(), nullable=True),
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['billing_bills.id'], name=op.f('fk_billing_meter_readings_bill_id_billing_bills')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_billing_meter_readings_contract_id_contracts')),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_billing_meter_readings_meter_id_meters')),
    sa.ForeignKeyConstraint(['overridden_by_id'], ['users.id'], name=op.f('fk_billing_meter_readings_overridden_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_billing_meter_readings_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_billing_meter_readings_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_meter_readings'))
    )
    op.create_index(op.f('ix_billing_meter_readings_bill_id'), 'billing_meter_readings', ['bill_id'], unique=False)
    op.create_index('ix_billing_meter_readings_contract_day', 'billing_meter_readings', ['contract_id', 'read_on'], unique=False)
    op.create_index(op.f('ix_billing_meter_readings_meter_id'), 'billing_meter_readings', ['meter_id'], unique=False)
    op.create_index(op.f('ix_billing_meter_readings_region_id'), 'billing_meter_readings', ['region_id'], unique=False)
    types = sa.table("billing_tariff_types", sa.column("utility", sa.String), sa.column("code", sa.String),
                     sa.column("slug", sa.String), sa.column("name", sa.String), sa.column("active", sa.Boolean),
                     sa.column("created_at", sa.DateTime(timezone=True)))
    op.bulk_insert(types, [{"utility": utility, "code": code, "slug": slug, "name": name, "active": True,
                            "created_at": datetime.now(UTC)}
                           for utility, rows in STANDARD_TYPES.items() for code, slug, name in rows])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TRIGGERS)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS billing_bills_frozen ON billing_bills")
        op.execute("DROP TRIGGER IF EXISTS billing_tariff_versions_frozen ON billing_tariff_versions")
        op.execute("DROP FUNCTION IF EXISTS billing_frozen_rows()")
    op.drop_index(op.f('ix_billing_meter_readings_region_id'), table_name='billing_meter_readings')
    op.drop_index(op.f('ix_billing_meter_readings_meter_id'), table_name='billing_meter_readings')
    op.drop_index('ix_billing_meter_readings_contract_day', table_name='billing_meter_readings')
    op.drop_index(op.f('ix_billing_meter_readings_bill_id'), table_name='billing_meter_readings')
    op.drop_table('billing_meter_readings')
    op.drop_index('uq_billing_bills_contract_period', table_name='billing_bills', postgresql_where=sa.text("status = 'issued'"), sqlite_where=sa.text("status = 'issued'"))
    op.drop_index(op.f('ix_billing_bills_status'), table_name='billing_bills')
    op.drop_index(op.f('ix_billing_bills_region_id'), table_name='billing_bills')
    op.drop_index(op.f('ix_billing_bills_contract_id'), table_name='billing_bills')
    op.drop_table('billing_bills')
    op.drop_index('uq_billing_tariff_versions_published', table_name='billing_tariff_versions', postgresql_where=sa.text("status = 'published'"), sqlite_where=sa.text("status = 'published'"))
    op.drop_index(op.f('ix_billing_tariff_versions_tariff_type_id'), table_name='billing_tariff_versions')
    op.drop_table('billing_tariff_versions')
    op.drop_table('billing_tariff_types')
