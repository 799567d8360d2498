"""The analyst's workbench through its pages: versions, drafts, the engine's verdict per element, deploying by
permission while running requests stay on their version, forms, export/import and the diff."""

import io
import json
import zipfile

from sqlalchemy import select

from engine import cartable, diff, drafts, runtime
from engine.models import Instance, ProcessDraft, ProcessVersion, WorkItem
from tests.engine_support import deploy_test_request, read_bpmn, read_forms, region
from tests.helpers import csrf_token_from, login

NEW_STEP = {  # a second user task between register and the fee computation
    '<bpmn:sequenceFlow id="f_register" sourceRef="register" targetRef="compute_fee" />':
        '<bpmn:sequenceFlow id="f_register" sourceRef="register" targetRef="check" />'
        '<bpmn:userTask id="check" name="بررسی مدارک"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formKey" value="test_approve" /></spiffworkflow:properties>'
        '</bpmn:extensionElements><bpmn:incoming>f_register</bpmn:incoming><bpmn:outgoing>f_check</bpmn:outgoing>'
        '</bpmn:userTask><bpmn:sequenceFlow id="f_check" sourceRef="check" targetRef="compute_fee" />',
    '<bpmn:incoming>f_register</bpmn:incoming>\n      <bpmn:outgoing>f_fee</bpmn:outgoing>':
        '<bpmn:incoming>f_check</bpmn:incoming>\n      <bpmn:outgoing>f_fee</bpmn:outgoing>',
    "<bpmn:flowNodeRef>register</bpmn:flowNodeRef>":
        "<bpmn:flowNodeRef>register</bpmn:flowNodeRef><bpmn:flowNodeRef>check</bpmn:flowNodeRef>",
}


def _draft_of(client, version) -> int:
    page = client.get("/processes").get_data(as_text=True)
    response = client.post(f"/processes/versions/{version.id}/draft", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _save(client, draft_id, bpmn):
    page = client.get(f"/processes/drafts/{draft_id}").get_data(as_text=True)
    return client.post(f"/processes/drafts/{draft_id}/save", json={"bpmn": bpmn},
                       headers={"X-CSRFToken": csrf_token_from(page)})


def test_the_workbench_needs_its_permission(client, session, demo):
    login(client, "clerk")
    assert client.get("/processes").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    login(client, "analyst")
    page = client.get("/processes")
    assert page.status_code == 200 and "روال‌ها" in page.get_data(as_text=True)


def test_versions_are_listed_and_open_in_the_modeler(client, session, demo):
    version = deploy_test_request(session, demo["analyst"])
    session.commit()
    login(client, "analyst")
    listing = client.get("/processes").get_data(as_text=True)
    assert "test_request" in listing and "باز کردن در ویرایشگر" in listing
    draft_id = _draft_of(client, version)
    page = client.get(f"/processes/drafts/{draft_id}").get_data(as_text=True)
    assert "data-modeler" in page and "bpmn-modeler.production.min.js" in page
    catalogue = json.loads(page.split('id="modeler-catalogue">')[1].split("</script>")[0])
    assert "test.compute_fee" in [op["name"] for op in catalogue["operations"]]
    assert {"test_register", "test_approve"} == set(catalogue["forms"])
    assert "counter_clerk" in [role["code"] for role in catalogue["roles"]]
    xml = client.get(f"/processes/drafts/{draft_id}/bpmn").get_data(as_text=True)
    assert "BPMNDiagram" in xml  # a layout was generated for the modeler


def test_the_engines_verdict_names_each_element(client, session, demo):
    version = deploy_test_request(session, demo["analyst"])
    session.commit()
    login(client, "analyst")
    draft_id = _draft_of(client, version)
    broken = version.bpmn.replace('value="test_approve"', 'value="no_such_form"').replace(
        'id="test.compute_fee"', 'id="test.nothing"')
    verdict = _save(client, draft_id, broken).get_json()
    assert verdict["saved"] and not verdict["ok"]
    by_element = {e["element"]: e["message"] for e in verdict["errors"]}
    assert "no_such_form" in by_element["approve"]
    assert "test.nothing" in by_element["compute_fee"]
    assert session.get(ProcessDraft, draft_id).bpmn == broken  # a draft may be unfinished
    fixed = _save(client, draft_id, version.bpmn).get_json()
    assert fixed["ok"] and fixed["errors"] == []


def test_deploy_needs_its_permission_and_running_requests_stay_on_their_version(client, session, demo):
    from core import permissions as p
    from core.account_ops import ensure_role

    # This company keeps deploying for its administrators: its analysts model and validate only.
    ensure_role(session, None, "analyst", "تحلیلگر فرآیند", "Process analyst", [p.PROCESSES_MODEL, p.REPORTS_VIEW])
    v1 = deploy_test_request(session, demo["analyst"])
    old = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    session.commit()
    login(client, "analyst")
    draft_id = _draft_of(client, v1)
    changed = read_bpmn("test_request.bpmn", **NEW_STEP)
    assert _save(client, draft_id, changed).get_json()["ok"]
    page = client.get(f"/processes/drafts/{draft_id}").get_data(as_text=True)
    assert "deploy-form" not in page  # the analyst may not deploy
    assert client.post(f"/processes/drafts/{draft_id}/deploy",
                       data={"csrf_token": csrf_token_from(page)}).status_code == 403

    client.post("/logout", data={"csrf_token": csrf_token_from(page)})
    login(client, "admin")
    page = client.get(f"/processes/drafts/{draft_id}").get_data(as_text=True)
    response = client.post(f"/processes/drafts/{draft_id}/deploy", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    v2 = session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == "test_request",
                                                     ProcessVersion.version == 2))
    assert v2 is not None and "check" in v2.bpmn
    assert set(v2.forms) == {"test_register", "test_approve"}
    new = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    assert new.version_id == v2.id and session.get(Instance, old.id).version_id == v1.id
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == old.id))
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})  # the old one goes on without 'check'
    assert {i.task_name for i in session.scalars(select(WorkItem).where(WorkItem.instance_id == old.id,
                                                                        WorkItem.status == "open"))} == {"approve"}
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == new.id))
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})
    assert {i.task_name for i in session.scalars(select(WorkItem).where(WorkItem.instance_id == new.id,
                                                                        WorkItem.status == "open"))} == {"check"}
    changes = client.get(f"/processes/versions/{v1.id}/diff/{v2.id}").get_data(as_text=True)
    assert 'data-element="check"' in changes and "madam-added" in changes


def test_an_invalid_draft_is_not_deployed_and_its_errors_are_pinned(client, session, demo):
    version = deploy_test_request(session, demo["analyst"])
    session.commit()
    login(client, "admin")
    draft_id = _draft_of(client, version)
    page = client.get(f"/processes/drafts/{draft_id}").get_data(as_text=True)
    broken = version.bpmn.replace('value="test_approve"', 'value="no_such_form"')
    response = client.post(f"/processes/drafts/{draft_id}/deploy",
                           data={"csrf_token": csrf_token_from(page), "bpmn": broken})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    verdict = json.loads(html.split('id="modeler-verdict">')[1].split("</script>")[0])
    assert [e["element"] for e in verdict["errors"]] == ["approve"]
    assert session.scalar(select(ProcessVersion).where(ProcessVersion.version == 2)) is None


def test_export_and_import_round_trip_as_a_zip(client, session, demo):
    version = deploy_test_request(session, demo["analyst"])
    session.commit()
    login(client, "analyst")
    exported = client.get(f"/processes/versions/{version.id}/export")
    assert exported.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(exported.data)).namelist()
    assert sorted(names) == ["forms/test_approve.json", "forms/test_register.json", "test_request.bpmn"]
    page = client.get("/processes").get_data(as_text=True)
    response = client.post("/processes/import", data={"csrf_token": csrf_token_from(page),
                                                      "file": (io.BytesIO(exported.data), "test_request-v1.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    draft = session.scalars(select(ProcessDraft).order_by(ProcessDraft.id.desc())).first()
    assert draft.process_key == "test_request" and set(draft.forms) == {"test_register", "test_approve"}
    assert drafts.check(session, draft)["ok"]


def test_the_form_editor_refuses_what_the_renderer_does_not_support_and_previews_the_rest(client, session, demo):
    version = deploy_test_request(session, demo["analyst"])
    session.commit()
    login(client, "analyst")
    draft_id = _draft_of(client, version)
    page = client.get(f"/processes/drafts/{draft_id}/forms/test_approve")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "تأیید می‌شود" in html  # the server's own rendering
    token = csrf_token_from(html)
    bad = {"components": [{"type": "dynamiclist", "key": "rows"}]}
    refused = client.post(f"/processes/drafts/{draft_id}/forms/test_approve",
                          data={"csrf_token": token, "schema": json.dumps(bad)})
    assert refused.status_code == 422 and "dynamiclist" in refused.get_data(as_text=True)
    assert "فرم ذخیره نشد" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(ProcessDraft, draft_id).forms["test_approve"] == read_forms("test_approve")["test_approve"]
    options = json.loads(html.split('id="form-editor-options">')[1].split("</script>")[0])
    assert "madam:subscriber" in options["supported"] and "dynamiclist" not in options["supported"]
    assert "vendor/madam/form-editor.js" in html  # the form-js editor, limited to these types
    preview = client.post(f"/processes/drafts/{draft_id}/forms/test_approve/preview", headers={"X-CSRFToken": token},
                          json={"schema": json.dumps({"components": [
                              {"type": "textfield", "key": "mobile", "label": "تلفن همراه"}]})}).get_json()
    assert preview["problems"] == [] and "تلفن همراه" in preview["html"]
    created = client.post(f"/processes/drafts/{draft_id}/forms", data={"csrf_token": token, "key": "inspection"})
    assert created.status_code == 302
    assert "inspection" in session.get(ProcessDraft, draft_id).forms


def test_the_diff_names_added_removed_and_changed_elements():
    old = read_bpmn("test_request.bpmn")
    new = read_bpmn("test_request.bpmn", **NEW_STEP).replace(
        'name="تأیید فنی"', 'name="تأیید فنی نهایی"').replace('value="P1D"', 'value="P2D"')
    new = new.replace('<bpmn:script>outcome = "approved" if approved else "rejected"</bpmn:script>',
                      '<bpmn:script>outcome = "ok" if approved else "no"</bpmn:script>')
    result = diff.diff(old, new)
    assert {e["id"] for e in result["added"]} == {"check", "f_check"}
    changed = {e["id"]: e["aspects"] for e in result["changed"]}
    assert "name" in changed["approve"] and "properties" in changed["approve"]
    assert changed["record"] == ["script"]
    assert "connections" in changed["compute_fee"]
    assert diff.diff(old, old.replace('x="', 'x="1')) == {"added": [], "removed": [], "changed": []}
    removed = diff.diff(new, old)["removed"]
    assert {e["id"] for e in removed} == {"check", "f_check"}


def test_drafts_forms_are_deployed_only_when_referenced(session, demo):
    version = deploy_test_request(session, demo["analyst"])
    draft = drafts.from_version(session, demo["admin"], version.id)
    drafts.set_form(session, demo["admin"], draft, "unused", {"components": []})
    draft.bpmn = draft.bpmn.replace('name="تأیید فنی"', 'name="تأیید"')
    new, created = drafts.deploy(session, demo["admin"], draft)
    assert created and new.version == 2 and set(new.forms) == {"test_register", "test_approve"}
    assert read_forms("test_approve")["test_approve"] == new.forms["test_approve"]
