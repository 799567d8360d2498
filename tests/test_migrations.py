"""The Alembic revisions build exactly the tables the models describe, on PostgreSQL and SQLite."""

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from core.db import db
from madam.app import MIGRATIONS_DIR, create_app


def _differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _replaced_foreign_keys() -> set[tuple[str, str, str]]:
    """The foreign keys revision 5c4ed0000005 checks by statement triggers on PostgreSQL instead (its docstring)."""
    script = ScriptDirectory(MIGRATIONS_DIR)
    return set(script.get_revision("5c4ed0000005").module.REPLACED_FOREIGN_KEYS)


def _replaced(difference) -> tuple[str, str, str] | None:
    if difference[0] != "add_fk":
        return None
    key = difference[1]
    return (key.parent.name, *[column.name for column in key.columns], key.referred_table.name)


def test_migrations_match_the_models_on_postgresql(app_ctx):
    differences = _differences(db.engine)
    replaced = _replaced_foreign_keys()
    # exactly the replaced foreign keys are missing, and each has its table's statement trigger
    assert {_replaced(d) for d in differences} == replaced
    assert [d for d in differences if _replaced(d) not in replaced] == []
    with db.engine.connect() as connection:
        triggers = set(connection.exec_driver_sql(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal").all())
    for table, _column, referenced in replaced:
        assert {(table, f"{table}_references_insert"), (table, f"{table}_references_update"),
                (referenced, f"{referenced}_no_referents"), (referenced, f"{referenced}_key_kept"),
                (referenced, f"{referenced}_no_truncate_referenced")} <= triggers


def test_migrations_match_the_models_on_sqlite(tmp_path):
    app = create_app(env={"MADAM_DATA_DIR": str(tmp_path)})
    with app.app_context():
        upgrade()
        assert _differences(db.engine) == []
        db.engine.dispose()


def test_revision_files_are_named_by_date():
    names = [p.name for p in Path(MIGRATIONS_DIR, "versions").glob("*.py")]
    assert names
    assert all(re.match(r"^\d{8}_\d{4}_[0-9a-f]+_\w+\.py$", name) for name in names), names
