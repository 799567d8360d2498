"""subscriber registry

Revision ID: 5b5c71be0001
Revises: d5d38e918ba5
Create Date: 2026-11-28 12:00:00

Subscribers, premises, service points, meters and their installations, contracts, documents and
outages. On PostgreSQL the search columns get GIN trigram indexes (pg_trgm) and the identifiers
b-tree text_pattern_ops indexes for prefix search; the models declare the same indexes with
PostgreSQL-only options, so on SQLite the same names are plain b-tree indexes on both sides.
"""

import sqlalchemy as sa
from alembic import op

revision = "5b5c71be0001"
down_revision = "d5d38e918ba5"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Trusted since PostgreSQL 13: the database owner may create it without being a superuser.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('number_counters',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_number_counters'))
    )
    op.create_table('meters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('serial', sa.String(length=32), nullable=False),
    sa.Column('utility', sa.String(length=16), nullable=False),
    sa.Column('manufacturer', sa.String(length=100), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('register_set', sa.String(length=8), nullable=False),
    sa.Column('has_reactive', sa.Boolean(), nullable=False),
    sa.Column('digits', sa.SmallInteger(), nullable=False),
    sa.Column('multiplier', sa.Integer(), nullable=False),
    sa.Column('manufacture_year', sa.SmallInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_meters_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meters'))
    )
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meters_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meters_status'), ['status'], unique=False)
        batch_op.create_index('uq_meters_serial', ['serial'], unique=True, postgresql_ops={'serial': 'text_pattern_ops'})

    op.create_table('outages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('utility', sa.String(length=16), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('planned', sa.Boolean(), nullable=False),
    sa.Column('cause', sa.String(length=200), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_outages_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_outages_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outages'))
    )
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outages_region_id'), ['region_id'], unique=False)

    op.create_table('subscribers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('father_name', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('economic_code', sa.String(length=14), nullable=False),
    sa.Column('registration_no', sa.String(length=20), nullable=False),
    sa.Column('national_id', sa.String(length=11), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_subscribers_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers'))
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index('ix_subscribers_mobile', ['mobile'], unique=False, postgresql_ops={'mobile': 'text_pattern_ops'})
        batch_op.create_index(batch_op.f('ix_subscribers_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_subscribers_search_trgm', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.create_index('uq_subscribers_national_id', ['national_id'], unique=True, postgresql_ops={'national_id': 'text_pattern_ops'})

    op.create_table('premises',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscriber_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('province', sa.String(length=64), nullable=False),
    sa.Column('city', sa.String(length=64), nullable=False),
    sa.Column('district', sa.String(length=64), nullable=False),
    sa.Column('street', sa.String(length=128), nullable=False),
    sa.Column('alley', sa.String(length=128), nullable=False),
    sa.Column('plaque', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('climate_zone', sa.String(length=16), nullable=False),
    sa.Column('building_use', sa.String(length=16), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_premises_region_id_regions')),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_premises_subscriber_id_subscribers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_premises'))
    )
    with op.batch_alter_table('premises', schema=None) as batch_op:
        batch_op.create_index('ix_premises_postal_code', ['postal_code'], unique=False, postgresql_ops={'postal_code': 'text_pattern_ops'})
        batch_op.create_index(batch_op.f('ix_premises_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_premises_search_trgm', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.create_index(batch_op.f('ix_premises_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('service_points',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('premise_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('utility', sa.String(length=16), nullable=False),
    sa.Column('phases', sa.SmallInteger(), nullable=True),
    sa.Column('amperage', sa.Integer(), nullable=True),
    sa.Column('pipe_diameter', sa.String(length=8), nullable=False),
    sa.Column('gas_meter_size', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['premise_id'], ['premises.id'], name=op.f('fk_service_points_premise_id_premises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_points'))
    )
    with op.batch_alter_table('service_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_points_premise_id'), ['premise_id'], unique=False)

    op.create_table('contracts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscription_no', sa.String(length=10), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('file_no', sa.String(length=8), nullable=False),
    sa.Column('bill_id', sa.String(length=13), nullable=False),
    sa.Column('subscriber_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('service_point_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('tariff_type', sa.String(length=32), nullable=False),
    sa.Column('contracted_demand', sa.Integer(), nullable=True),
    sa.Column('discount_category', sa.String(length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('close_reason', sa.String(length=16), nullable=False),
    sa.Column('predecessor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['predecessor_id'], ['contracts.id'], name=op.f('fk_contracts_predecessor_id_contracts')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_contracts_region_id_regions')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'], name=op.f('fk_contracts_service_point_id_service_points')),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_contracts_subscriber_id_subscribers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index('ix_contracts_bill_id', ['bill_id'], unique=False, postgresql_ops={'bill_id': 'text_pattern_ops'})
        batch_op.create_index('ix_contracts_file_no', ['file_no'], unique=False, postgresql_ops={'file_no': 'text_pattern_ops'})
        batch_op.create_index(batch_op.f('ix_contracts_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_service_point_id'), ['service_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_subscriber_id'), ['subscriber_id'], unique=False)
        batch_op.create_index('uq_contracts_subscription_no', ['subscription_no', 'revision'], unique=True, postgresql_ops={'subscription_no': 'text_pattern_ops'})

    op.create_table('meter_installations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('service_point_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('installed_on', sa.Date(), nullable=False),
    sa.Column('removed_on', sa.Date(), nullable=True),
    sa.Column('initial_readings', sa.JSON(), nullable=False),
    sa.Column('final_readings', sa.JSON(), nullable=True),
    sa.Column('removal_reason', sa.String(length=200), nullable=False),
    sa.Column('installed_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['installed_by_id'], ['users.id'], name=op.f('fk_meter_installations_installed_by_id_users')),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_meter_installations_meter_id_meters')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'], name=op.f('fk_meter_installations_removed_by_id_users')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'], name=op.f('fk_meter_installations_service_point_id_service_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_installations'))
    )
    with op.batch_alter_table('meter_installations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meter_installations_meter_id'), ['meter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meter_installations_service_point_id'), ['service_point_id'], unique=False)
        batch_op.create_index('uq_meter_installations_open_meter', ['meter_id'], unique=True, postgresql_where=sa.text('removed_on IS NULL'), sqlite_where=sa.text('removed_on IS NULL'))
        batch_op.create_index('uq_meter_installations_open_point', ['service_point_id'], unique=True, postgresql_where=sa.text('removed_on IS NULL'), sqlite_where=sa.text('removed_on IS NULL'))

    op.create_table('outage_service_points',
    sa.Column('outage_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('service_point_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['outage_id'], ['outages.id'], name=op.f('fk_outage_service_points_outage_id_outages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'], name=op.f('fk_outage_service_points_service_point_id_service_points')),
    sa.PrimaryKeyConstraint('outage_id', 'service_point_id', name=op.f('pk_outage_service_points'))
    )
    with op.batch_alter_table('outage_service_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outage_service_points_service_point_id'), ['service_point_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('subscriber_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_documents_contract_id_contracts')),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_documents_subscriber_id_subscribers')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_subscriber_id'), ['subscriber_id'], unique=False)


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_documents_sha256'))
        batch_op.drop_index(batch_op.f('ix_documents_request_id'))
        batch_op.drop_index(batch_op.f('ix_documents_contract_id'))

    op.drop_table('documents')
    with op.batch_alter_table('outage_service_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outage_service_points_service_point_id'))

    op.drop_table('outage_service_points')
    with op.batch_alter_table('meter_installations', schema=None) as batch_op:
        batch_op.drop_index('uq_meter_installations_open_point', postgresql_where=sa.text('removed_on IS NULL'), sqlite_where=sa.text('removed_on IS NULL'))
        batch_op.drop_index('uq_meter_installations_open_meter', postgresql_where=sa.text('removed_on IS NULL'), sqlite_where=sa.text('removed_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_meter_installations_service_point_id'))
        batch_op.drop_index(batch_op.f('ix_meter_installations_meter_id'))

    op.drop_table('meter_installations')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index('uq_contracts_subscription_no', postgresql_ops={'subscription_no': 'text_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_contracts_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_status'))
        batch_op.drop_index(batch_op.f('ix_contracts_service_point_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_region_id'))
        batch_op.drop_index('ix_contracts_file_no', postgresql_ops={'file_no': 'text_pattern_ops'})
        batch_op.drop_index('ix_contracts_bill_id', postgresql_ops={'bill_id': 'text_pattern_ops'})

    op.drop_table('contracts')
    with op.batch_alter_table('service_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_points_premise_id'))

    op.drop_table('service_points')
    with op.batch_alter_table('premises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_premises_subscriber_id'))
        batch_op.drop_index('ix_premises_search_trgm', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_premises_region_id'))
        batch_op.drop_index('ix_premises_postal_code', postgresql_ops={'postal_code': 'text_pattern_ops'})

    op.drop_table('premises')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index('uq_subscribers_national_id', postgresql_ops={'national_id': 'text_pattern_ops'})
        batch_op.drop_index('ix_subscribers_search_trgm', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_subscribers_region_id'))
        batch_op.drop_index('ix_subscribers_mobile', postgresql_ops={'mobile': 'text_pattern_ops'})

    op.drop_table('subscribers')
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outages_region_id'))

    op.drop_table('outages')
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.drop_index('uq_meters_serial', postgresql_ops={'serial': 'text_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_meters_status'))
        batch_op.drop_index(batch_op.f('ix_meters_region_id'))

    op.drop_table('meters')
    op.drop_table('number_counters')
