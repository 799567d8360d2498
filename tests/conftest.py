"""Test fixtures: a real PostgreSQL database migrated once per run, each test in a transaction
that is rolled back, and a real Redis database. Tests marked `committed` write for real and the
`committed_db` fixture empties every table afterwards."""

import functools
import os
import re
from urllib.parse import urlsplit

import psycopg
import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from core import account_ops
from core.db import db
from madam.app import create_app
from madam.demo import load_demo

_BASE_DB_URL = os.environ.get("MADAM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/madam_test")
# One database per test run, so two runs on one machine (a developer's and CI's) never collide.
TEST_DB_URL = f"{_BASE_DB_URL}_{os.getpid()}"
TEST_REDIS_URL = os.environ.get("MADAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _admin_sql(url: str, *statements: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or "test" not in name:
        raise RuntimeError(f"refusing to recreate database {name!r}: its name must contain 'test'")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.format(name=name))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    _admin_sql(TEST_DB_URL, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', 'CREATE DATABASE "{name}"')
    data_dir = tmp_path_factory.mktemp("data")
    env = {"MADAM_DATA_DIR": str(data_dir), "MADAM_DATABASE_URL": TEST_DB_URL}
    application = create_app({"TESTING": True, "SERVER_NAME": None}, env=env)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    _admin_sql(TEST_DB_URL, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def session(app_ctx):
    """db.session inside a transaction that is rolled back: commits become savepoints."""
    engines = db.engines
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    db.session.remove()
    engines[None] = connection
    db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield db.session
    finally:
        db.session.remove()
        engines[None] = engine
        outer.rollback()
        connection.close()


class RequestPerContextClient(FlaskClient):
    """The test holds an app context open (for its session), which every request would share.
    A browser's requests each get a fresh `g`, so each request here starts with an empty one."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, session):
    app.test_client_class = RequestPerContextClient
    return app.test_client()


@pytest.fixture(autouse=True, scope="session")
def _hash_each_password_once():
    """argon2 is slow on purpose; tests reuse one real hash per password instead of 8 per test."""
    real = account_ops.hash_password
    account_ops.hash_password = functools.lru_cache(maxsize=64)(real)
    yield
    account_ops.hash_password = real


@pytest.fixture
def demo(session):
    """The demo utility: regions, standard roles and one user per role."""
    users = load_demo(session)
    session.flush()
    return {user.username: user for user, _role in users}


def _empty_all_tables() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        # Triggers (the audit log's append-only guard among them) are off for this cleanup only.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    # What the migrations seed goes back, as a fresh database would have it: the standard tariff types.
    from billing.tariffs import ensure_tariff_types

    ensure_tariff_types(db.session)
    db.session.commit()
    db.session.remove()


@pytest.fixture
def clean_db(app):
    """For tests that commit for real (other threads, other processes): every table is emptied before
    and after. No app context is left pushed, so code under test makes its own."""
    with app.app_context():
        _empty_all_tables()
    yield
    with app.app_context():
        db.session.remove()
        _empty_all_tables()


@pytest.fixture
def committed_db(clean_db, app_ctx):
    """Like clean_db, with the test inside an app context using the real (committing) session."""
    yield db
    db.session.remove()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so fixtures can tell a failed test (screenshots)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


pytest_plugins = ["tests.browser"]
