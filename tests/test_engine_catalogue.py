"""Catalogue and versions: deploy once per content, instances stay on their version, validate files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from engine import runtime
from engine.catalogue import InvalidProcess, deploy, forms_for, sync_directory
from engine.models import ProcessVersion, WorkItem
from tests.conftest import TEST_DB_URL
from tests.engine_support import DATA, deploy_test_request, read_bpmn, read_forms, region

MADAM = str(Path(sys.executable).with_name("madam"))


def test_identical_content_is_deployed_once_and_a_change_is_a_new_version(session, demo):
    first = deploy_test_request(session, demo["analyst"])
    again = deploy_test_request(session, demo["analyst"])
    assert again.id == first.id and first.version == 1
    assert first.deployed_by_id == demo["analyst"].id and first.deployed_at is not None
    assert first.name == "درخواست آزمایشی"
    assert set(first.forms) == {"test_register", "test_approve"}
    assert "task_specs" in first.spec["spec"]  # the parsed spec is stored with the version
    second = deploy_test_request(session, demo["analyst"], **{"ثبت درخواست": "ثبت درخواست مشترک"})
    assert (second.process_key, second.version) == ("test_request", 2)
    count = session.scalar(select(func.count(ProcessVersion.id)).where(ProcessVersion.process_key == "test_request"))
    assert count == 2


def test_a_versions_forms_are_read_once_and_each_version_keeps_its_own(session, demo):
    first = deploy_test_request(session, demo["analyst"])
    changed = read_forms("test_register", "test_approve")
    changed["test_approve"]["components"][0]["label"] = "تأیید نهایی"
    second, _created = deploy(session, demo["analyst"], read_bpmn("test_request.bpmn"), changed, source="x.bpmn")
    session.commit()
    original = read_forms("test_register", "test_approve")
    assert forms_for(first) == first.forms == original and forms_for(second) == changed != original
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    session.expire_all()  # the deferred forms would be read again
    event.listen(session.get_bind(), "before_cursor_execute", seen)
    try:
        assert forms_for(first) == original and forms_for(second) == changed
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", seen)
    assert statements and not [s for s in statements if "forms" in s]  # the versions' rows, not their forms


def test_running_instances_stay_on_their_version(session, demo):
    v1 = deploy_test_request(session, demo["analyst"])
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    v2 = deploy_test_request(session, demo["analyst"], **{"تأیید فنی": "تأیید فنی نهایی"})
    newer = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    assert (instance.version_id, newer.version_id) == (v1.id, v2.id)
    from engine.cartable import complete

    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
    complete(session, demo["clerk"], item.id, {"capacity": 0})
    approve = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                    WorkItem.status == "open"))
    assert approve.title == "تأیید فنی"  # the old version's name, not v2's


def test_an_invalid_diagram_is_refused_with_the_verdict_and_nothing_saved(session, demo):
    bad = read_bpmn("test_request.bpmn", **{'name="engineer"': 'name="astronaut"'})
    with pytest.raises(InvalidProcess) as refused:
        deploy(session, demo["analyst"], bad, read_forms("test_register", "test_approve"))
    assert any(e["element"] == "approve" and "astronaut" in e["message"] for e in refused.value.verdict["errors"])
    assert session.scalar(select(func.count(ProcessVersion.id))) == 0


def test_sync_deploys_a_folder_and_then_nothing(session, demo):
    first = sync_directory(session, None, DATA / "processes", DATA / "forms")
    assert [(v.process_key, created) for v, created in first] == [("test_request", True)]
    second = sync_directory(session, None, DATA / "processes", DATA / "forms")
    assert [created for _v, created in second] == [False]


def test_process_validate_prints_one_json_verdict_per_file(tmp_path, app):
    truncated = tmp_path / "truncated.bpmn"
    truncated.write_text(read_bpmn("test_request.bpmn")[:900], encoding="utf-8")
    good = DATA / "processes" / "test_request.bpmn"
    env = {"MADAM_DATABASE_URL": TEST_DB_URL, "MADAM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "MADAM_OPERATION_MODULES": "tests.engine_support", "PYTHONPATH": str(Path(__file__).parent.parent)}
    result = subprocess.run([MADAM, "process", "validate", "--forms", str(DATA / "forms"), str(good),
                             str(truncated)], env=env, capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1, result.stderr
    assert [(v["file"], v["ok"], v["errors"]) for v in lines[:1]] == [(str(good), True, [])]
    assert (lines[1]["file"], lines[1]["ok"], lines[1]["errors"][0]["element"]) == (str(truncated), False, "file")
    assert "Traceback" not in result.stderr


def test_a_diagram_with_import_os_is_refused_before_it_can_run(session, demo):
    bad = read_bpmn("test_request.bpmn", **{'outcome = "approved" if approved else "rejected"':
                                            'import os\noutcome = os.listdir("/")'})
    with pytest.raises(InvalidProcess) as refused:
        deploy(session, demo["analyst"], bad, read_forms("test_register", "test_approve"))
    assert [e["element"] for e in refused.value.verdict["errors"]] == ["record"]
    assert "import" in refused.value.verdict["errors"][0]["message"]


def test_a_script_failing_at_run_time_puts_the_instance_in_error_naming_task_and_line(session, demo):
    deploy_test_request(session, demo["analyst"], **{'outcome = "approved" if approved else "rejected"':
                                                    'ratio = 1\noutcome = ratio / 0'})
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    from engine.cartable import complete

    complete(session, demo["clerk"], session.scalar(select(WorkItem.id)), {"capacity": 0})
    approve = session.scalar(select(WorkItem).where(WorkItem.status == "open"))
    complete(session, demo["engineer"], approve.id, {"approved": True})
    assert (instance.status, instance.error_task) == ("error", "record")
    assert "line 2" in instance.error_message and "ZeroDivisionError" in instance.error_message


def test_processes_sync_deploys_changed_files_only(app, clean_db, tmp_path):
    env = {"MADAM_DATABASE_URL": TEST_DB_URL, "MADAM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "MADAM_OPERATION_MODULES": "tests.engine_support", "PYTHONPATH": str(Path(__file__).parent.parent)}
    command = [MADAM, "processes", "sync", "--processes", str(DATA / "processes"), "--forms", str(DATA / "forms")]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "test_request v1: deployed (processes/test_request.bpmn)"
    assert second.stdout.strip() == "test_request v1: unchanged (processes/test_request.bpmn)"
