"""ledger and billing: each statement check of a replaced foreign key made in one query

Revision ID: 5c4ed0000007
Revises: 5c4ed0000006
Create Date: 2026-11-28 22:37:00

Revision 5c4ed0000005 checks the foreign keys of the hot tables once per statement (`<table>_references_exist`).
Its check of a column built an array of the statement's distinct values, counted the referenced rows found (and
locked) for it, and on a miss looked for the missing value again. For a billing chunk's thousands of postings
that was far cheaper than one RI query per row; for a payment's two postings its fixed cost was not: a payment
took more of the server's time than with the foreign keys it replaced (ledger_post_payment called 3,000 times in
one statement, alternated: at load 3.5, 383-462 us against 272-283 us; at load 1.7-2.4, 183-219 us against
157-181 us).

Here each column is one query: a value of the statement's rows that the referenced table lacks, if any. A table
whose rows can be deleted is still read with FOR KEY SHARE, as an RI check reads it: the NOT IN's hashed subplan
finds and locks every referenced row the statement names before any row is compared. Measured the same way: a
payment 266-326 us at load 3.5, 156-171 us at load 1.7-2.4 (as with the foreign keys); a chunk's postings
(6,000 rows for 1,000 journals in one INSERT) 27-49 us a journal, as before (30-49; the foreign keys 72-126).
The same checks, the same errors (foreign_key_violation naming the table, the column and the missing value).
"""

from alembic import op

revision = "5c4ed0000007"
down_revision = "5c4ed0000006"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION {table}_references_exist() RETURNS trigger AS $$
DECLARE
    missing bigint;
BEGIN{checks}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

COLUMN_CHECK = """
    SELECT n.{column} INTO missing FROM new_rows n WHERE n.{column} IS NOT NULL AND {absent} LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('insert or update on table "%s" violates foreign key: {column} = %s is not in '
                             '{referenced}', TG_TABLE_NAME, missing),
            TABLE = TG_TABLE_NAME, COLUMN = '{column}';
    END IF;"""
ABSENT = "NOT EXISTS (SELECT 1 FROM {referenced} r WHERE r.id = n.{column})"
ABSENT_LOCKED = ("n.{column} NOT IN (SELECT r.id FROM {referenced} r WHERE r.id IN (SELECT {column} FROM new_rows) "
                 "FOR KEY SHARE OF r)")


def _replaced():
    """Revision 5c4ed0000005's module: which foreign keys it replaced, which tables it only looks rows up in."""
    from alembic import context
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(context.config).get_revision("5c4ed0000005").module


def _function(table: str, keys, append_only) -> str:
    checks = "".join(
        COLUMN_CHECK.format(column=column, referenced=referenced,
                            absent=(ABSENT if referenced in append_only else ABSENT_LOCKED).format(
                                column=column, referenced=referenced))
        for _t, column, referenced in keys)
    return FUNCTION.format(table=table, checks=checks)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    earlier = _replaced()
    for table, keys in earlier._by(0).items():
        op.execute(_function(table, keys, earlier.APPEND_ONLY))


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    earlier = _replaced()
    for table, keys in earlier._by(0).items():
        op.execute(earlier._references_exist(table, keys).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
