"""reports: faster first pages (outages, broken meters)

Outages count or list a region's contracts live on a day from an index, and the service points of the other
utilities from another; broken meters read a meter's latest installation and a service point's latest contract from
the index alone (the INCLUDE columns are PostgreSQL's; SQLite gets the keys, which spare the sort).

Revision ID: e9a0e7000003
Revises: b111e7000002
Create Date: 2026-11-28 13:07:00
"""

from alembic import op

revision = "e9a0e7000003"
down_revision = "b111e7000002"
branch_labels = None
depends_on = None


INDEXES = (
    ("ix_report_contracts_region_end", "contracts", ["region_id", "end_date"], ["id", "service_point_id"]),
    ("ix_report_service_points_utility", "service_points", ["utility"], []),
    ("ix_report_installations_meter_last", "meter_installations", ["meter_id", "id"],
     ["service_point_id", "removed_on"]),
    ("ix_report_contracts_point_last", "contracts", ["service_point_id", "id"],
     ["region_id", "subscription_no", "subscriber_id"]),
)


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, columns, include in INDEXES:
        op.create_index(name, table, columns, unique=False, **({"postgresql_include": include} if postgresql else {}))


def downgrade():
    for name, table, _columns, _include in reversed(INDEXES):
        op.drop_index(name, table_name=table)
