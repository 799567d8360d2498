"""The `madam` command against the real PostgreSQL and Redis."""

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.accounts import Assignment, User
from core.audit import AuditEntry
from core.auth import authenticate
from core.db import db
from core.regions import Region
from engine.models import Instance, WorkItem
from madam.cli import main
from madam.settings import REPO_ROOT
from tests.conftest import TEST_DB_URL, TEST_REDIS_URL


@pytest.fixture
def run(clean_db, monkeypatch, tmp_path):
    monkeypatch.setenv("MADAM_DATABASE_URL", TEST_DB_URL)
    monkeypatch.setenv("MADAM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MADAM_REDIS_URL", raising=False)

    def invoke(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_check_reports_postgresql_and_redis_reachable(run, monkeypatch):
    monkeypatch.setenv("MADAM_REDIS_URL", TEST_REDIS_URL)
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "database: postgresql" in result.output and "reachable" in result.output
    assert f"queue: rq {TEST_REDIS_URL} — reachable" in result.output


def test_check_reports_what_is_not_reachable(run, monkeypatch):
    monkeypatch.setenv("MADAM_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("MADAM_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing")
    result = run("check")
    assert result.exit_code == 1
    assert "database: postgresql" in result.output and "NOT reachable" in result.output
    assert "queue: rq redis://127.0.0.1:1/0 — NOT reachable" in result.output


def test_check_in_the_embedded_default(run, monkeypatch, tmp_path):
    monkeypatch.delenv("MADAM_DATABASE_URL")
    result = run("check")
    assert result.exit_code == 0
    assert "database: sqlite" in result.output and "queue: in-process" in result.output


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count(User.id))),
                db.session.scalar(select(func.count(Assignment.id))),
                db.session.scalar(select(func.count(Region.id))),
                db.session.scalar(select(func.count(Instance.id))),
                db.session.scalar(select(func.count(WorkItem.id)).where(WorkItem.status == "open")))


def test_demo_load_is_idempotent(run, app):
    first = run("demo", "load")
    assert first.exit_code == 0 and "clerk" in first.output and "madam1403" in first.output
    assert _counts(app)[:2] == (9, 9)  # a user for each standard role
    first_counts = _counts(app)
    assert first_counts[3:] == (20, 19)  # requests in flight across the procedures; one waits for a payment
    assert "20 requests left in flight" in first.output
    second = run("demo", "load")
    assert second.exit_code == 0
    assert _counts(app) == first_counts


def test_user_create_and_passwd(run, app):
    run("demo", "load")
    created = run("user", "create", "operator", "--full-name", "اپراتور شب", "--role", "counter_clerk",
                  "--region", "shiraz-2", "--password", "first-password")
    assert created.exit_code == 0, created.output
    changed = run("user", "passwd", "operator", input="second-password\nsecond-password\n")
    assert changed.exit_code == 0, changed.output
    with app.app_context():
        ok = authenticate(db.session, "operator", "second-password", max_failures=5,
                          lockout=app.config["MADAM_LOGIN_LOCKOUT"])
        assert ok.outcome == "ok"
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.client.startswith("cli:"))).all()
        assert {"user.created", "user.role_assigned", "user.password_set"} <= set(actions)
        db.session.rollback()


def test_user_create_refuses_a_short_password_in_persian(run):
    result = CliRunner().invoke(main, ["user", "create", "x1x", "--full-name", "x", "--password", "short"])
    assert result.exit_code != 0
    assert "گذرواژه دست‌کم باید ۸ نویسه باشد" in result.output or "گذرواژه دست‌کم باید 8 نویسه باشد" in result.output


def test_worker_needs_redis(run):
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code != 0 and "MADAM_REDIS_URL" in result.output


def test_a_bank_file_is_imported_with_a_report_per_line_and_never_twice(run, tmp_path):
    from core.identifiers import make_bill_id, make_payment_id

    bill = make_bill_id(5551234, 101, 2)
    payment = make_payment_id(250_000, 1405, 8, bill)
    bank_file = tmp_path / "bank.csv"
    bank_file.write_text("bill_id,payment_id,amount,date,reference\n"
                         f"{bill},{payment},250000,1405/08/20,REF-1\n"
                         "123,456,abc,1405/08/20,REF-2\n", encoding="utf-8")
    first = run("ledger", "import-bank-file", str(bank_file))
    assert first.exit_code == 1  # one bad line
    assert "line 3:" in first.output and "failed=1" in first.output and "suspense=1" in first.output
    again = run("ledger", "import-bank-file", str(bank_file))
    assert "duplicate=1" in again.output and "suspense" not in again.output


def test_process_validate_speaks_persian_naming_each_element(run, tmp_path):
    import json

    from tests.engine_support import DATA, read_bpmn

    diagram = tmp_path / "request.bpmn"
    diagram.write_text(read_bpmn("test_request.bpmn").replace('value="test_approve"', 'value="no_such_form"'),
                       encoding="utf-8")
    result = run("process", "validate", "--forms", str(DATA / "forms"), str(diagram))
    verdict = json.loads(result.output.splitlines()[0])
    assert result.exit_code == 1 and verdict["file"] == str(diagram) and not verdict["ok"]
    messages = {e["element"]: e["message"] for e in verdict["errors"]}
    assert messages["approve"].startswith("فرم «no_such_form» وظیفهٔ «approve» وجود ندارد؛ فرم‌های موجود: ")


def test_process_validate_on_a_database_not_set_up_says_so_without_a_traceback(run, monkeypatch, tmp_path):
    monkeypatch.delenv("MADAM_DATABASE_URL")  # the embedded SQLite file, never migrated
    result = run("process", "validate", str(REPO_ROOT / "processes" / "new_connection.bpmn"))
    assert result.exit_code == 2 and "madam db upgrade" in result.output and "Traceback" not in result.output
