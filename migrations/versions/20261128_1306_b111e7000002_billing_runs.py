"""billing: general bill issuance runs and their contracts

Revision ID: b111e7000002
Revises: a9170e700001
Create Date: 2026-11-28 13:06:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b111e7000002"
down_revision = "a9170e700001"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "billing_runs",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("utility", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("region_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("instance_id", BIGINT, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["approved_by_id"], ["users.id"], name=op.f("fk_billing_runs_approved_by_id_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_billing_runs_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_runs")),
    )
    op.create_index(op.f("ix_billing_runs_status"), "billing_runs", ["status"], unique=False)
    op.create_table(
        "billing_run_contracts",
        sa.Column("run_id", BIGINT, nullable=False),
        sa.Column("contract_id", BIGINT, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("bill_pk", BIGINT, nullable=True),
        sa.Column("payable", sa.BigInteger(), nullable=True),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["bill_pk"], ["billing_bills.id"],
                                name=op.f("fk_billing_run_contracts_bill_pk_billing_bills")),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"],
                                name=op.f("fk_billing_run_contracts_contract_id_contracts")),
        sa.ForeignKeyConstraint(["run_id"], ["billing_runs.id"],
                                name=op.f("fk_billing_run_contracts_run_id_billing_runs")),
        sa.PrimaryKeyConstraint("run_id", "contract_id", name=op.f("pk_billing_run_contracts")),
    )
    op.create_index("ix_billing_run_contracts_run_status", "billing_run_contracts", ["run_id", "status"],
                    unique=False)


def downgrade():
    op.drop_index("ix_billing_run_contracts_run_status", table_name="billing_run_contracts")
    op.drop_table("billing_run_contracts")
    op.drop_index(op.f("ix_billing_runs_status"), table_name="billing_runs")
    op.drop_table("billing_runs")
