"""billing and ledger: the hot tables' foreign keys checked once per statement, fewer index entries a bill

Revision ID: 5c4ed0000005
Revises: 5c4ed0000004
Create Date: 2026-11-28 22:35:00

A billing run writes ~11 rows a bill, and PostgreSQL checked each foreign key of each row with one query of
its own (the RI triggers: 22 a bill, 12.6 of them the postings'), ~35% of the database's time in a run. On
PostgreSQL, the foreign keys listed in REPLACED_FOREIGN_KEYS are dropped and replaced by:

- on the referencing table, a statement trigger after INSERT and UPDATE (`<table>_references_exist`) that
  gathers each column's distinct ids from the statement's rows (its transition table, in one pass) and finds
  them all in one index scan a column, refusing the statement (foreign_key_violation) if one is missing. Like
  an RI check it takes FOR KEY SHARE on the rows it found, so that a concurrent DELETE or key UPDATE of them
  waits for this transaction and then sees its rows; rows of the append-only tables (journals, bills: their own
  triggers refuse DELETE and a change of id) are only looked up. The function runs with enable_seqscan off: its
  plans are cached per connection, and one made while a table was small would otherwise scan the whole table
  ever after (a journal of two postings a statement, 5,000 a transaction: 180, 465, 764 us a statement as the
  tables grew; with it flat). All of it is one query a statement (a journal and its two postings, as a
  payment writes them: 49-52 us a statement against the foreign keys' 39-46 us; a billing chunk's thousands
  of rows far less than their RI checks).
- on each referenced table, a statement trigger after DELETE (`integrity_no_referents`) that refuses the
  statement if a deleted row is still referenced, and a row trigger before a change of its id
  (`integrity_key_kept`) that refuses it when the row is referenced — NO ACTION, as the constraints were.
  Under REPEATABLE READ such a DELETE is refused outright: its snapshot could not see rows a concurrent
  transaction committed meanwhile (the RI triggers look with a fresh snapshot, which PL/pgSQL cannot; under
  SERIALIZABLE the predicate locks catch it). TRUNCATE of a referenced table is refused while a referencing
  table has rows (`integrity_no_truncate`; a foreign key would let both be truncated in one statement).

The database stays as strict (tests/test_ledger_integrity.py). The models keep their ForeignKey declarations
(relationships, SQLite, whose constraints stay); tests/test_migrations.py reads REPLACED_FOREIGN_KEYS from
this revision and expects exactly those to be absent on PostgreSQL, and their triggers present.

Indexes (both databases): a bill's `status` and a journal's `kind` lose theirs (no query picks rows by them:
'issued' is nearly every bill, and the journals read by kind are first found by account), so does an account's
`kind`, which the reports' index (kind, balance, id, region_id) leads with: a balance update is not HOT (that
index holds the balance), so each bill's and payment's wrote an entry into both. The unique
`replaces_id`, `reversal_journal_id` (bills) and `reverses_id` (journals), NULL but for a rebill or a reversal,
become unique indexes over the rows that have one: the same uniqueness (ON CONFLICT DO NOTHING included)
without an index entry for every bill and journal. Six index entries fewer a bill.

Foreign keys still checked per row: the journals' and the audit log's (one a bill, two: a payment or an engine
action inserts them one row at a time, where a statement trigger costs about as much as the RI checks), the
allocations', payments', readings' (a bill only updates its reading) and every other table's.
"""

import sqlalchemy as sa
from alembic import op

revision = "5c4ed0000005"
down_revision = "5c4ed0000004"
branch_labels = None
depends_on = None

# (referencing table, column, referenced table): each referenced table's key is its id
REPLACED_FOREIGN_KEYS = (
    ("ledger_postings", "journal_id", "ledger_journals"),
    ("ledger_postings", "account_id", "ledger_accounts"),
    ("ledger_charges", "journal_id", "ledger_journals"),
    ("ledger_charges", "account_id", "ledger_accounts"),
    ("billing_bills", "contract_id", "contracts"),
    ("billing_bills", "region_id", "regions"),
    ("billing_bills", "tariff_type_id", "billing_tariff_types"),
    ("billing_bills", "journal_id", "ledger_journals"),
    ("billing_bills", "replaces_id", "billing_bills"),
    ("billing_bills", "issued_by_id", "users"),
    ("billing_bills", "cancelled_by_id", "users"),
    ("billing_bills", "reversal_journal_id", "ledger_journals"),
)

# rows never deleted nor re-keyed (their own triggers refuse UPDATE and DELETE): looked up, not locked
APPEND_ONLY = {"ledger_journals", "billing_bills"}

# One query a statement: every column's distinct ids gathered in one pass over the statement's rows (a bill's
# row is a few KB), then each column's all found (and locked) in one index scan; a missing one named.
REFERENCES_EXIST = """
CREATE FUNCTION {table}_references_exist() RETURNS trigger AS $$
DECLARE
    missing text;
BEGIN
    SELECT concat_ws(', ', {checks}) INTO missing FROM (SELECT {gathered} FROM new_rows) w;
    IF missing <> '' THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('insert or update on table "%s" violates foreign key: %s', TG_TABLE_NAME, missing),
            TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET enable_seqscan = off;
"""

# one column: NULL when all its ids are found, else which is missing
COLUMN_CHECK = """
        CASE WHEN coalesce(cardinality(w.{column}), 0) >
                  (SELECT count(*) FROM (SELECT 1 FROM {referenced} r WHERE r.id = ANY(w.{column}){lock}) f)
             THEN format('{column} = %s is not in {referenced}', (SELECT min(x) FROM unnest(w.{column}) x
                         WHERE NOT EXISTS (SELECT 1 FROM {referenced} r WHERE r.id = x))) END"""

REFERENCED_SIDE = """
-- TG_ARGV: referencing table, column, … for each replaced foreign key to the table
CREATE FUNCTION integrity_no_referents() RETURNS trigger AS $$
DECLARE
    i int := 0;
    referenced bigint;
BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            'delete on table "%s" refused under REPEATABLE READ (its referents are checked in READ COMMITTED '
            'or SERIALIZABLE)', TG_TABLE_NAME);
    END IF;
    WHILE i < TG_NARGS LOOP
        EXECUTE format('SELECT o.id FROM old_rows o WHERE EXISTS (SELECT 1 FROM %I r WHERE r.%I = o.id) LIMIT 1',
                       TG_ARGV[i], TG_ARGV[i + 1]) INTO referenced;
        IF referenced IS NOT NULL THEN
            RAISE foreign_key_violation USING
                MESSAGE = format('delete on table "%s" violates foreign key: id %s is still referenced from %s.%s',
                                 TG_TABLE_NAME, referenced, TG_ARGV[i], TG_ARGV[i + 1]),
                TABLE = TG_TABLE_NAME;
        END IF;
        i := i + 2;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- TG_ARGV as integrity_no_referents'; fires only when a row's id changes
CREATE FUNCTION integrity_key_kept() RETURNS trigger AS $$
DECLARE
    i int := 0;
    referenced boolean;
BEGIN
    WHILE i < TG_NARGS LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I r WHERE r.%I = $1)', TG_ARGV[i], TG_ARGV[i + 1])
            INTO referenced USING OLD.id;
        IF referenced THEN
            RAISE foreign_key_violation USING
                MESSAGE = format('update on table "%s" violates foreign key: id %s is still referenced from %s.%s',
                                 TG_TABLE_NAME, OLD.id, TG_ARGV[i], TG_ARGV[i + 1]),
                TABLE = TG_TABLE_NAME;
        END IF;
        i := i + 2;
    END LOOP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- TG_ARGV as integrity_no_referents'; TRUNCATE of a table another still refers to (stricter than a foreign
-- key, which lets the two be truncated together: here the referencing one must be emptied first)
CREATE FUNCTION integrity_no_truncate() RETURNS trigger AS $$
DECLARE
    i int := 0;
    referenced boolean;
BEGIN
    WHILE i < TG_NARGS LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I IS NOT NULL)', TG_ARGV[i], TG_ARGV[i + 1])
            INTO referenced;
        IF referenced THEN
            RAISE foreign_key_violation USING
                MESSAGE = format('truncate of table "%s" refused: %s.%s refers to it', TG_TABLE_NAME, TG_ARGV[i],
                                 TG_ARGV[i + 1]);
        END IF;
        i := i + 2;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def _quoted(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _by(index: int) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = {}
    for key in REPLACED_FOREIGN_KEYS:
        grouped.setdefault(key[index], []).append(key)
    return grouped


def _fk_name(table: str, column: str, referenced: str) -> str:
    return f"fk_{table}_{column}_{referenced}"


def _references_exist(table: str, keys: list[tuple]) -> str:
    checks = ",".join(
        COLUMN_CHECK.format(column=column, referenced=referenced,
                            lock="" if referenced in APPEND_ONLY else " FOR KEY SHARE OF r")
        for _t, column, referenced in keys
    )
    gathered = ", ".join(
        f"array_agg(DISTINCT {column}) FILTER (WHERE {column} IS NOT NULL) AS {column}" for _t, column, _r in keys
    )
    return REFERENCES_EXIST.format(table=table, checks=checks, gathered=gathered)


# (table, column): a unique constraint become a unique index of the rows where the column is not NULL
PARTIAL_UNIQUE = (("billing_bills", "replaces_id"), ("billing_bills", "reversal_journal_id"),
                  ("ledger_journals", "reverses_id"))
DROPPED_INDEXES = (("billing_bills", "status"), ("ledger_journals", "kind"), ("ledger_accounts", "kind"))


def _partial_unique_indexes() -> None:
    for table, column in PARTIAL_UNIQUE:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_{column}", type_="unique")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(f"uq_{table}_{column}", table, [column], unique=True, postgresql_where=where,
                        sqlite_where=where)
    for table, column in DROPPED_INDEXES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)


def _unique_constraints_again() -> None:
    for table, column in DROPPED_INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column])
    for table, column in PARTIAL_UNIQUE:
        op.drop_index(f"uq_{table}_{column}", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.create_unique_constraint(f"uq_{table}_{column}", [column])


def upgrade():
    _partial_unique_indexes()
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(REFERENCED_SIDE)
    for table, column, referenced in REPLACED_FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_fk_name(table, column, referenced)}")
    for table, keys in _by(0).items():
        op.execute(_references_exist(table, keys))
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {table}_references_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_references_exist()"
            )
    for referenced, keys in _by(2).items():
        arguments = _quoted(part for table, column, _r in keys for part in (table, column))
        op.execute(
            f"CREATE TRIGGER {referenced}_no_referents AFTER DELETE ON {referenced} "
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION integrity_no_referents({arguments})"
        )
        op.execute(
            f"CREATE TRIGGER {referenced}_key_kept BEFORE UPDATE OF id ON {referenced} FOR EACH ROW "
            f"WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION integrity_key_kept({arguments})"
        )
        op.execute(
            f"CREATE TRIGGER {referenced}_no_truncate_referenced BEFORE TRUNCATE ON {referenced} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION integrity_no_truncate({arguments})"
        )


def downgrade():
    _unique_constraints_again()
    if op.get_bind().dialect.name != "postgresql":
        return
    for referenced in _by(2):
        for trigger in ("no_referents", "key_kept", "no_truncate_referenced"):
            op.execute(f"DROP TRIGGER {referenced}_{trigger} ON {referenced}")
    for table in _by(0):
        op.execute(f"DROP TRIGGER {table}_references_insert ON {table}")
        op.execute(f"DROP TRIGGER {table}_references_update ON {table}")
        op.execute(f"DROP FUNCTION {table}_references_exist()")
    for table, column, referenced in REPLACED_FOREIGN_KEYS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {_fk_name(table, column, referenced)} "
            f"FOREIGN KEY ({column}) REFERENCES {referenced}(id)"
        )
    for function in ("integrity_no_truncate", "integrity_key_kept", "integrity_no_referents"):
        op.execute(f"DROP FUNCTION {function}()")
