"""The admin console: repairs through the pages, bulk migration dry run, and the browser round trip of
finding an errored request, seeing why, retrying it and watching it continue."""

import pytest
from sqlalchemy import select

from core.accounts import User
from core.db import db
from engine import cartable, runtime
from engine.models import Instance, InstanceEvent, WorkItem
from tests.engine_support import FAILURES, deploy_test_request, region
from tests.helpers import csrf_token_from, login
from tests.test_engine_runtime import FLAKY


def _errored(session, demo):
    deploy_test_request(session, demo["analyst"], **FLAKY)
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
    FAILURES["test.flaky"] = 1
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 3})
    session.commit()
    return instance


def test_the_console_needs_its_permission(client, demo):
    login(client, "clerk")
    assert client.get("/admin/instances").status_code == 403
    assert client.get("/admin/stuck").status_code == 403


def test_repairs_through_the_pages_are_recorded(client, session, demo):
    instance = _errored(session, demo)
    login(client, "admin")
    page = client.get(f"/admin/instances/{instance.id}").get_data(as_text=True)
    assert "did not answer" in page and "compute_fee" in page
    token = csrf_token_from(page)
    assert client.post(f"/admin/instances/{instance.id}/retry", data={"csrf_token": token}).status_code == 302
    session.refresh(instance)
    assert instance.status == "waiting"
    refused = client.post(f"/admin/instances/{instance.id}/suspend", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 409 and session.get(Instance, instance.id).status == "waiting"
    client.post(f"/admin/instances/{instance.id}/suspend", data={"csrf_token": token, "reason": "بررسی"})
    client.post(f"/admin/instances/{instance.id}/resume", data={"csrf_token": token})
    bad_json = client.post(f"/admin/instances/{instance.id}/data", data={"csrf_token": token, "changes": "{oops",
                                                                         "reason": "x"})
    assert bad_json.status_code == 422
    client.post(f"/admin/instances/{instance.id}/terminate", data={"csrf_token": token, "reason": "انصراف"})
    session.refresh(instance)
    actions = [e.action for e in session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance.id))]
    assert instance.status == "terminated"
    assert {"retried", "suspended", "resumed", "terminated"} <= set(actions)


def test_bulk_migration_dry_run_lists_who_can_move_and_why_not(client, session, demo):
    v1 = deploy_test_request(session, demo["analyst"])
    at_register = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    moved_on = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == moved_on.id))
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})
    deploy_test_request(session, demo["analyst"], **{
        '<bpmn:sequenceFlow id="f_approved" sourceRef="approve" targetRef="record" />':
            '<bpmn:sequenceFlow id="f_approved" sourceRef="approve" targetRef="end" />',
        '<bpmn:incoming>f_end</bpmn:incoming>': "<bpmn:incoming>f_approved</bpmn:incoming>",
        "<bpmn:flowNodeRef>record</bpmn:flowNodeRef>": "",
        '<bpmn:flowNodeRef>register</bpmn:flowNodeRef>': "",
        '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="register" />':
            '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="compute_fee" />',
        '<bpmn:incoming>f_register</bpmn:incoming>': "<bpmn:incoming>f_start</bpmn:incoming>"})
    session.commit()
    login(client, "admin")
    page = client.get(f"/admin/versions/{v1.id}/migrate").get_data(as_text=True)
    assert "register" in page  # the reason the first cannot move
    assert page.count(">خیر<") == 2  # neither can move: both passed or stand on the removed step
    assert session.get(Instance, at_register.id).version_id == v1.id


@pytest.mark.browser
def test_find_an_errored_request_see_why_retry_and_watch_it_continue(app, page, live_server):
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        instance = _errored(db.session, users)
        number = instance.business_key
        db.session.remove()
    page.goto(f"{live_server}/login")
    page.get_by_label("نام کاربری").fill("admin")
    page.get_by_label("گذرواژه").fill("madam1403")
    page.get_by_role("button", name="ورود", exact=True).click()
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/admin/stuck")
    row = page.get_by_test_id("stuck-row").filter(has_text="متوقف بر اثر خطا")
    row.get_by_role("link").click()
    assert "did not answer" in page.get_by_test_id("instance-error").inner_text()
    assert number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in page.content()
    page.get_by_role("button", name="تلاش دوباره برای مرحله ناموفق").click()
    page.get_by_text("دوباره تلاش شد.").wait_for()
    assert page.get_by_test_id("instance-error").count() == 0
    assert "در انتظار" in page.content()  # now waiting for the fee to be paid
    page.locator(".madam-diagram[data-ready=true]").wait_for()  # the diagram was drawn
    assert page.locator(".madam-diagram .madam-passed").count() >= 1  # with the path taken marked


def test_the_stuck_page_counts_per_procedure_step_and_reason(client, session, demo):
    instance = _errored(session, demo)
    login(client, "admin")
    page = client.get("/admin/stuck").get_data(as_text=True)
    counts = page[page.index('data-testid="stuck-counts"'):page.index("</table>")]
    assert "compute_fee" in counts and "متوقف بر اثر خطا" in counts and "test_request" in counts
    assert f"/admin/instances/{instance.id}" in page


def test_the_metrics_page_shows_steps_and_a_heat_map(client, session, demo):
    instance = _errored(session, demo)
    login(client, "admin")
    page = client.get(f"/admin/versions/{instance.version_id}/metrics")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "ثبت درخواست" in body and "data-heat=" in body
