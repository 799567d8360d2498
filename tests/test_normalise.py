"""Diagrams from other tools: what can be normalised is, and what cannot run is reported per element, both by
the engine function and through the import page, in the user's language (Persian by default)."""

import io
import json

from sqlalchemy import select

from core.standard_roles import STANDARD_ROLES
from engine import drafts
from engine.models import ProcessDraft
from engine.normalise import normalise, unrunnable
from engine.registry import operation_specs
from engine.validation import validate_bpmn
from tests.engine_support import DATA, read_forms
from tests.helpers import csrf_token_from, login

IMPORTS = DATA / "imports"
ROLES = {code: {fa, en} for code, fa, en, _perms in STANDARD_ROLES}


def _messages(entries) -> dict:
    found = {}
    for entry in entries:
        found.setdefault(entry["element"], []).append(entry["message"])
    return found


def test_a_camunda_diagram_is_normalised_until_it_runs(app_ctx):
    original = (IMPORTS / "camunda_normalisable.bpmn").read_bytes()
    forms = read_forms("test_register", "test_approve")
    before = validate_bpmn(original, filename="c.bpmn", forms=forms, roles=set(ROLES), operations=operation_specs())
    assert not before["ok"]  # not executable as exported
    result = normalise(original, roles=ROLES)
    assert result["tool"].startswith("Camunda Modeler") and result["problems"] == []
    changes = _messages(result["changes"])
    assert "اکنون اجراشدنی است" in changes["capacity_increase"][0]
    assert 'اکنون درون گیومه است ("PT1H")' in changes["Event_late"][0]
    assert changes["register"] == ["فرم «test_register» ابزار دیگر اکنون formKey این وظیفه است"]
    assert "test_approve" in changes["approve"][0]
    assert "اکنون عبارت پایتون capacity > 10 and capacity < 1000 است" in changes["Flow_big"][0]
    assert "همان نقش «counter_clerk» است" in changes["Lane_clerk"][0] and "engineer" in changes["Lane_engineer"][0]
    after = validate_bpmn(result["bpmn"].encode(), filename="c.bpmn", forms=forms, roles=set(ROLES),
                          operations=operation_specs())
    assert after == {"file": "c.bpmn", "ok": True, "errors": [], "processes": ["capacity_increase"]}
    assert normalise(result["bpmn"], roles=ROLES)["changes"] == []  # normalising twice changes nothing


def test_unrunnable_elements_are_reported_each_with_its_reason(app_ctx):
    result = normalise((IMPORTS / "signavio_unrunnable.bpmn").read_bytes(), roles=ROLES)
    assert result["tool"].startswith("Signavio")
    problems = _messages(result["problems"])
    assert set(problems) == {"pick_tariff", "merge", "notify"}
    assert "هیچ تصمیمی نام نمی‌برد" in problems["pick_tariff"][0] and "DMN" in problems["pick_tariff"][0]
    assert "درگاه پیچیده در مادام اجرا نمی‌شود" in problems["merge"][0]
    assert "کلاس جاوا «ir.tavanir.NotifyDelegate»" in problems["notify"][0]
    changes = _messages(result["changes"])
    assert "billing_expert" in changes["sid-lane-billing"][0]
    assert "چیدمانی برایش ساخته شد" in changes["file"][0] and "BPMNDiagram" in result["bpmn"]  # none in the export
    assert _messages(unrunnable(result["bpmn"])).keys() == problems.keys()


def test_foreign_conditions_and_scripts_that_cannot_be_translated_are_named(app_ctx):
    bpmn = (IMPORTS / "camunda_normalisable.bpmn").read_text(encoding="utf-8").replace(
        "${capacity &gt; 10 &amp;&amp; capacity &lt; 1000}", "${execution.getVariable('x').size() > 2 ? a : b}")
    result = normalise(bpmn, roles=ROLES)
    assert "عبارت Camunda است که به پایتون برگردانده نشد" in _messages(result["problems"])["Flow_big"][0]
    unreadable = normalise(b"<not xml", roles=ROLES)["problems"][0]
    assert unreadable["element"] == "file" and "فایل XML درستی نیست" in unreadable["message"]


def test_importing_through_the_page_shows_the_report_and_refuses_to_deploy_what_cannot_run(client, session, demo):
    login(client, "admin")
    page = client.get("/processes").get_data(as_text=True)
    token = csrf_token_from(page)
    response = client.post("/processes/import", data={"csrf_token": token, "file": (
        io.BytesIO((IMPORTS / "signavio_unrunnable.bpmn").read_bytes()), "signavio_unrunnable.bpmn")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    draft = session.scalars(select(ProcessDraft).order_by(ProcessDraft.id.desc())).first()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "گزارش ورود" in html and "اجرا نمی‌شود" in html and 'data-element="merge"' in html
    assert "درگاه پیچیده در مادام اجرا نمی‌شود" in html  # the report speaks the analyst's language
    verdict = drafts.check(session, draft)
    assert not verdict["ok"] and {"merge", "pick_tariff", "notify"} <= {e["element"] for e in verdict["errors"]}
    refused = client.post(f"/processes/drafts/{draft.id}/deploy", data={"csrf_token": token})
    assert refused.status_code == 422
    pinned = json.loads(refused.get_data(as_text=True).split('id="modeler-verdict">')[1].split("</script>")[0])
    assert "merge" in {e["element"] for e in pinned["errors"]}


def test_an_imported_camunda_diagram_deploys_once_its_forms_are_there(client, session, demo):
    login(client, "admin")
    token = csrf_token_from(client.get("/processes").get_data(as_text=True))
    client.post("/processes/import", data={"csrf_token": token, "file": (
        io.BytesIO((IMPORTS / "camunda_normalisable.bpmn").read_bytes()), "capacity.bpmn")},
        content_type="multipart/form-data")
    draft = session.scalars(select(ProcessDraft).order_by(ProcessDraft.id.desc())).first()
    assert draft.process_key == "capacity_increase"
    assert [e["element"] for e in drafts.check(session, draft)["errors"]] == ["register", "approve"]  # no forms yet
    for key, schema in read_forms("test_register", "test_approve").items():
        drafts.set_form(session, demo["admin"], draft, key, schema)
    version, created = drafts.deploy(session, demo["admin"], draft)
    assert created and version.process_key == "capacity_increase" and version.version == 1
