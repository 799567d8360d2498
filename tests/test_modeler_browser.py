"""The workbench in a real browser: an admin opens a process in the modeler, adds a user task with a form, sees
the engine's errors pinned on the canvas, deploys, and a new request runs the new version while a request of the
old version goes on with the old one. Persian labels are drawn right-to-left inside their shapes."""

import pytest
from sqlalchemy import select

from core.accounts import User
from core.db import db
from engine import cartable, runtime
from engine.catalogue import deploy
from engine.models import Instance, ProcessDraft, ProcessVersion, WorkItem
from tests.browser import ARTIFACTS
from tests.engine_support import read_forms, region

pytestmark = pytest.mark.browser

SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="pool" name="درخواست ساده" processRef="simple" />
  </bpmn:collaboration>
  <bpmn:process id="simple" name="درخواست ساده" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_clerk" name="counter_clerk">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>register</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>needs_fee</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" name="شروع"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="register" />
    <bpmn:userTask id="register" name="ثبت درخواست مشترک (مرحله ۱)">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="test_register" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="register" targetRef="needs_fee" />
    <bpmn:exclusiveGateway id="needs_fee" name="هزینه دارد؟"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f3" sourceRef="needs_fee" targetRef="end" />
    <bpmn:endEvent id="end" name="پایان"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="collab">
    <bpmndi:BPMNShape id="pool_di" bpmnElement="pool" isHorizontal="true">
      <dc:Bounds x="100" y="50" width="900" height="250" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="lane_clerk_di" bpmnElement="lane_clerk" isHorizontal="true">
      <dc:Bounds x="130" y="50" width="870" height="250" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="172" y="152" width="36" height="36" />
      <bpmndi:BPMNLabel><dc:Bounds x="175" y="195" width="30" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="register_di" bpmnElement="register">
      <dc:Bounds x="260" y="130" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="needs_fee_di" bpmnElement="needs_fee" isMarkerVisible="true">
      <dc:Bounds x="420" y="145" width="50" height="50" />
      <bpmndi:BPMNLabel><dc:Bounds x="405" y="115" width="80" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="end_di" bpmnElement="end">
      <dc:Bounds x="542" y="152" width="36" height="36" />
      <bpmndi:BPMNLabel><dc:Bounds x="545" y="195" width="30" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1">
      <di:waypoint x="208" y="170" /><di:waypoint x="260" y="170" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2">
      <di:waypoint x="360" y="170" /><di:waypoint x="420" y="170" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3">
      <di:waypoint x="470" y="170" /><di:waypoint x="542" y="170" /></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


@pytest.fixture
def deployed(app, live_server):
    with app.app_context():
        version, _created = deploy(db.session, None, SMALL, read_forms("test_register", "test_approve"),
                                   source="tests/simple.bpmn")
        old = runtime.start_instance(db.session, None, "simple", region(db.session, "shiraz-1"))
        db.session.commit()
        ids = version.id, old.id
        db.session.remove()
    return live_server, ids


def _sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill("madam1403")
    page.get_by_role("button", name="ورود", exact=True).click()
    page.wait_for_url(f"{base}/")


def _select(page, element_id):
    """Select an element as a click on it does (a click on a label may start editing it instead)."""
    page.evaluate("(id) => { const m = window.madamModeler; "
                  "m.get('selection').select(m.get('elementRegistry').get(id)); }", element_id)
    page.locator(".djs-context-pad.open").wait_for()


def test_add_a_user_task_validate_deploy_and_run_both_versions(app, page, deployed):
    base, (v1_id, old_id) = deployed
    _sign_in(page, base, "admin")
    page.get_by_role("link", name="روال‌ها").click()
    page.locator('[data-process="simple"]').get_by_role("button", name="باز کردن در ویرایشگر").click()
    page.locator("[data-modeler][data-ready=true]").wait_for()

    _select(page, "end")  # take the end away, append a task after the gateway, and end after it
    page.locator('.djs-context-pad [data-action="delete"]').click()
    _select(page, "needs_fee")
    page.locator('.djs-context-pad [data-action="append.append-task"]').click()
    page.keyboard.type("تأیید فنی")
    page.evaluate("() => window.madamModeler.get('directEditing').complete()")  # as a click elsewhere does
    new_task = page.evaluate("() => window.madamModeler.get('elementRegistry')"
                             ".filter(e => e.type === 'bpmn:Task')[0].id")
    _select(page, new_task)
    page.get_by_test_id("properties").locator("[data-prop=kind]").select_option("bpmn:UserTask")
    new_task = page.evaluate("() => window.madamModeler.get('elementRegistry')"
                             ".filter(e => e.type === 'bpmn:UserTask' && e.id !== 'register')[0].id")
    _select(page, new_task)
    page.locator('.djs-context-pad [data-action="append.end-event"]').click()

    page.get_by_role("button", name="ذخیره و بررسی").click()  # no form yet: the engine says so, on the task
    page.locator("[data-modeler][data-verdict=errors]").wait_for()
    assert page.locator(f'.djs-overlay .madam-badge.madam-error[data-element="{new_task}"]').count() == 1
    assert new_task in page.get_by_test_id("problems").inner_text()

    _select(page, new_task)
    page.get_by_test_id("properties").locator("[data-prop=formKey]").select_option("test_approve")
    page.get_by_role("button", name="ذخیره و بررسی").click()
    page.locator("[data-modeler][data-verdict=ok]").wait_for()
    assert page.locator(".madam-badge.madam-error").count() == 0
    page.get_by_role("button", name="استقرار به صورت نسخهٔ تازه").click()
    page.get_by_text("مستقر شد").first.wait_for()
    page.get_by_test_id("diagram").locator("[data-element-id]").first.wait_for()

    with app.app_context():
        v2 = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == "simple",
                                                            ProcessVersion.version == 2))
        assert v2 is not None and "تأیید فنی" in v2.bpmn and 'value="test_approve"' in v2.bpmn
        new = runtime.start_instance(db.session, None, "simple", region(db.session, "shiraz-1"))
        assert new.version_id == v2.id and db.session.get(Instance, old_id).version_id == v1_id
        clerk = db.session.scalar(select(User).where(User.username == "clerk"))
        for instance_id in (old_id, new.id):
            item = db.session.scalar(select(WorkItem).where(WorkItem.instance_id == instance_id))
            cartable.complete(db.session, clerk, item.id, {"capacity": 5})
        db.session.commit()
        assert db.session.get(Instance, old_id).status == "completed"  # the old version has no second step
        open_items = db.session.scalars(select(WorkItem).where(WorkItem.instance_id == new.id,
                                                               WorkItem.status == "open")).all()
        assert [(i.task_name, i.title, i.form_key) for i in open_items] == [(new_task, "تأیید فنی", "test_approve")]
        db.session.remove()


def test_persian_labels_are_right_to_left_and_stay_in_their_shapes(app, page, deployed):
    base, (v1_id, _old) = deployed
    _sign_in(page, base, "admin")
    page.goto(f"{base}/processes/versions/{v1_id}")
    page.locator(".madam-view[data-ready=true]").wait_for()
    page.wait_for_timeout(300)  # the label fix runs on the next animation frame
    lines = page.evaluate("""() => Array.from(document.querySelectorAll('.madam-view svg text tspan')).map(t => {
        const box = t.getBoundingClientRect();
        const shape = t.closest('.djs-element').querySelector('.djs-hit') || t.closest('.djs-element');
        const outer = shape.getBoundingClientRect();
        return {text: t.textContent, dir: t.getAttribute('direction'), left: box.left, right: box.right,
                shapeLeft: outer.left, shapeRight: outer.right,
                label: t.closest('.djs-element').getAttribute('data-element-id').endsWith('_label')};
    })""")
    persian = [line for line in lines if any("\u0600" <= ch <= "\u06ff" for ch in line["text"])]
    assert persian and all(line["dir"] == "rtl" for line in persian)
    inside_tasks = [line for line in persian if not line["label"]]
    for line in inside_tasks:  # centred in its shape, not pushed out to one side
        assert line["left"] >= line["shapeLeft"] - 2 and line["right"] <= line["shapeRight"] + 2, line
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".madam-view").screenshot(path=str(ARTIFACTS / "modeler_rtl_labels.png"))


def _lint_rules(page, element_id):
    """The bpmnlint rules whose findings bpmn-js-bpmnlint shows on an element of the canvas."""
    return page.eval_on_selector_all(f'.djs-overlays[data-container-id="{element_id}"] .bjsl-overlay li[data-rule]',
                                     "items => items.map(i => i.dataset.rule)")


def test_lint_marks_the_canvas_and_a_new_form_is_edited_previewed_saved_and_deployed(app, page, deployed):
    base, _ids = deployed
    _sign_in(page, base, "admin")
    page.goto(f"{base}/processes")
    page.locator('[data-process="simple"]').get_by_role("button", name="باز کردن در ویرایشگر").click()
    page.locator("[data-modeler][data-ready=true][data-linted]").wait_for()
    assert page.locator(".bjsl-overlay").count() == 0  # the deployed version passes every rule

    _select(page, "end")
    page.locator('.djs-context-pad [data-action="delete"]').click()
    _select(page, "needs_fee")
    page.locator('.djs-context-pad [data-action="append.append-task"]').click()
    page.keyboard.type("بازدید محل")
    page.evaluate("() => window.madamModeler.get('directEditing').complete()")
    task = page.evaluate("() => window.madamModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Task')[0].id")
    _select(page, task)
    page.get_by_test_id("properties").locator("[data-prop=kind]").select_option("bpmn:UserTask")
    task = page.evaluate("() => window.madamModeler.get('elementRegistry')"
                         ".filter(e => e.type === 'bpmn:UserTask' && e.id !== 'register')[0].id")
    page.wait_for_function(f"() => document.querySelector('.djs-overlays[data-container-id=\"{task}\"] .bjsl-overlay')")
    assert "madam/form-exists" in _lint_rules(page, task)  # a user task without a form, marked on the canvas
    colour = page.eval_on_selector(f'.djs-overlays[data-container-id="{task}"] .bjsl-icon',
                                   "icon => getComputedStyle(icon).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")  # the marker is seen, not white on white
    assert task in page.get_by_test_id("problems").inner_text()

    _select(page, "needs_fee")  # a second way out of the gateway, with no condition on either flow
    page.locator('.djs-context-pad [data-action="append.end-event"]').click()
    flows = page.evaluate("() => window.madamModeler.get('elementRegistry').get('needs_fee')"
                          ".outgoing.map(f => f.id)")
    assert len(flows) == 2
    page.wait_for_function(f"() => document.querySelector('.djs-overlays[data-container-id=\"{flows[1]}\"] "
                           ".bjsl-overlay')")
    assert all(_lint_rules(page, flow) == ["madam/exclusive-conditions"] for flow in flows)
    page.evaluate("() => window.madamModeler.get('commandStack').undo()")  # take the second way back
    page.wait_for_function(f"() => !document.querySelector('.djs-overlays[data-container-id=\"{flows[0]}\"] "
                           ".bjsl-overlay')")

    _select(page, task)
    panel = page.get_by_test_id("properties")
    panel.get_by_placeholder("کلید فرم تازه").fill("site_visit")
    panel.get_by_role("button", name="فرم تازه").click()
    page.wait_for_function(f"() => !document.querySelector('.djs-overlays[data-container-id=\"{task}\"] .bjsl-overlay')"
                           " || !Array.from(document.querySelectorAll('.djs-overlays[data-container-id=\"{task}\"] "
                           "li[data-rule]')).some(li => li.dataset.rule === 'madam/form-exists')")
    _select(page, task)
    page.locator('.djs-context-pad [data-action="append.end-event"]').click()
    page.get_by_role("button", name="ذخیره و بررسی").click()
    page.locator("[data-modeler][data-verdict=ok]").wait_for()

    _select(page, task)
    page.goto(base + panel.get_by_role("link", name="ویرایش فرم").get_attribute("href"))
    page.locator("[data-form-editor][data-editor=ready]").wait_for()
    palette = page.get_by_test_id("form-editor").locator(".fjs-palette")
    assert palette.locator('[data-field-type="textfield"]').count() == 1
    assert palette.locator('[data-field-type="madam:subscriber"]').count() == 1
    assert palette.locator('[data-field-type="dynamiclist"]').count() == 0  # the server cannot render it
    assert palette.locator('[data-field-type="button"]').count() == 0

    source = palette.locator('[data-field-type="textfield"]')  # dragged into the form, below its field
    start = source.bounding_box()
    end = page.get_by_test_id("form-editor").locator(".fjs-form-container").bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 5, start["y"] + start["height"] / 2 + 5)
    for step in range(1, 21):
        page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 100 + step * 5)
        page.wait_for_timeout(20)
    page.mouse.up()
    page.wait_for_function("() => window.madamFormEditor.getSchema().components.length === 2")
    properties = page.locator(".fjs-properties-panel")
    properties.locator('[data-group-id="group-general"] .bio-properties-panel-group-header').click()
    properties.locator('[data-entry-id="label"] [contenteditable]').fill("نشانی محل")
    page.wait_for_function("() => document.querySelector('[data-form-preview]').textContent.includes('نشانی محل')")
    preview = page.get_by_test_id("form-preview")  # drawn by the server: an input the expert will type in
    assert preview.get_by_label("نشانی محل").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "modeler_form_editor.png"), full_page=True)
    page.get_by_role("button", name="ذخیرهٔ فرم").click()
    page.get_by_text("فرم ذخیره شد.").wait_for()
    with app.app_context():
        draft = db.session.scalars(select(ProcessDraft).order_by(ProcessDraft.id.desc())).first()
        added = [c for c in draft.forms["site_visit"]["components"] if c.get("label") == "نشانی محل"]
        assert [c["type"] for c in added] == ["textfield"] and added[0]["key"]
        key, draft_id = added[0]["key"], draft.id
        db.session.remove()

    page.goto(f"{base}/processes/drafts/{draft_id}")
    page.locator("[data-modeler][data-ready=true]").wait_for()
    page.get_by_role("button", name="استقرار به صورت نسخهٔ تازه").click()
    page.get_by_text("مستقر شد").first.wait_for()
    with app.app_context():
        v2 = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == "simple",
                                                            ProcessVersion.version == 2))
        assert key in [c.get("key") for c in v2.forms["site_visit"]["components"]]
        new = runtime.start_instance(db.session, None, "simple", region(db.session, "shiraz-1"))
        clerk = db.session.scalar(select(User).where(User.username == "clerk"))
        item = db.session.scalar(select(WorkItem).where(WorkItem.instance_id == new.id))
        cartable.complete(db.session, clerk, item.id, {"capacity": 5})
        db.session.commit()
        visit = db.session.scalar(select(WorkItem).where(WorkItem.instance_id == new.id, WorkItem.status == "open"))
        assert (visit.task_name, visit.form_key) == (task, "site_visit")
        db.session.remove()
