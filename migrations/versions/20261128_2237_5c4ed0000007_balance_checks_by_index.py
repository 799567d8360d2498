"""ledger: the journals' balance checks always read postings through their index

Revision ID: 5c4ed0000007
Revises: 5c4ed0000006
Create Date: 2026-11-28 22:37:00

The checks that every journal sums to zero (`ledger_journal_balances`, deferred to commit for each posting;
`ledger_whole_journals_balance`, once per statement for a billing run's COPY) are PL/pgSQL, whose plans are cached
per connection. A plan made while `ledger_postings` was small by its statistics (a new installation, its first
payments) is a sequential scan, and it stays one until the table is analyzed again: a connection that planned
the per-posting check when the table held 20 analyzed rows took 14.7 ms a check once the table held 400,000
(75 us with the setting below; planned while the table was empty the plans were index scans either way). A
bank file or a billing run grows the table faster than autovacuum analyzes it. Both functions now run with
enable_seqscan off, as `ledger_post_payment` and the statement foreign-key checks (5c4ed0000005) do.
"""

from alembic import op

revision = "5c4ed0000007"
down_revision = "5c4ed0000006"
branch_labels = None
depends_on = None

FUNCTIONS = ("ledger_journal_balances()", "ledger_whole_journals_balance()")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for function in FUNCTIONS:
            op.execute(f"ALTER FUNCTION {function} SET enable_seqscan = off")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for function in FUNCTIONS:
            op.execute(f"ALTER FUNCTION {function} RESET enable_seqscan")
