"""The Alembic revisions build exactly the tables the models describe, on PostgreSQL and SQLite."""

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from core.db import db
from madam.app import MIGRATIONS_DIR, create_app


def _differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_match_the_models_on_postgresql(app_ctx):
    assert _differences(db.engine) == []


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
