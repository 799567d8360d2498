"""The cartable pages: inbox, task page, actions, starting a request, conflicts, notifications."""

import re

import pytest
from sqlalchemy import select

from core.permissions import INSTANCES_ADMIN, has_permission
from engine import cartable, queries, runtime
from engine.catalogue import sync_directory
from engine.models import Instance, Notification, WorkItem
from madam.settings import REPO_ROOT
from tests.engine_support import deploy_test_request, region
from tests.helpers import csrf_token_from, login
from web.cartable import item_for


@pytest.fixture
def inspection(session, demo):
    sync_directory(session, None, REPO_ROOT / "processes", REPO_ROOT / "forms")
    return demo


def _start(client):
    page = client.get("/requests/new").get_data(as_text=True)
    assert "بازدید و تست کنتور" in page
    region_id = re.search(r'<option value="(\d+)">امور یک شیراز', page).group(1)
    return client.post("/requests/new", data={"csrf_token": csrf_token_from(page), "process": "meter_inspection",
                                              "region": region_id})


def test_a_clerk_starts_a_request_and_lands_on_its_first_form(client, session, inspection):
    login(client, "clerk")
    response = _start(client)
    assert response.status_code == 302 and "/cartable/items/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ثبت درخواست بازدید" in page and "شماره اشتراک" in page
    instance = session.scalar(select(Instance))
    assert re.fullmatch(r"14\d\d-\d{6}", instance.business_key) and instance.initiator_id == inspection["clerk"].id
    mine = client.get("/requests/mine").get_data(as_text=True)
    assert instance.business_key.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in mine


def test_an_invalid_field_is_shown_with_everything_typed_kept_and_nothing_saved(client, session, inspection):
    login(client, "clerk")
    task_url = _start(client).headers["Location"]
    page = client.get(task_url).get_data(as_text=True)
    response = client.post(task_url, data={"csrf_token": csrf_token_from(page), "action": "complete",
                                           "subscription_no": "۱۲۳۴۵۶۷۸", "reason": "faulty",
                                           "mobile": "0912", "description": "کنتور صدا می‌دهد"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "کنتور صدا می‌دهد" in body and 'value="0912"' in body
    item = session.scalar(select(WorkItem).where(WorkItem.task_name == "register_request"))
    assert item.status == "open"
    fixed = client.post(task_url, data={"csrf_token": csrf_token_from(body), "action": "complete",
                                        "subscription_no": "12345678", "reason": "faulty",
                                        "mobile": "09121234567", "description": ""})
    assert fixed.status_code == 302
    visit = session.scalar(select(WorkItem).where(WorkItem.task_name == "site_visit"))
    assert visit.role_code == "inspector" and visit.status == "open"


def test_the_inspector_sees_it_in_his_cartable_with_a_badge_and_a_notice(client, session, inspection):
    instance = runtime.start_instance(session, inspection["clerk"], "meter_inspection", region(session, "shiraz-1"))
    from engine.cartable import complete

    first = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
    complete(session, inspection["clerk"], first.id, {"subscription_no": "12345678", "reason": "faulty",
                                                       "mobile": "09121234567"})
    session.commit()
    login(client, "inspector")
    inbox = client.get("/cartable").get_data(as_text=True)
    assert "بازدید از محل و آزمون کنتور" in inbox and 'data-testid="inbox-row"' in inbox
    assert "nav-badge" in inbox  # the navigation shows how many wait
    assert session.scalar(select(Notification).where(Notification.user_id == inspection["inspector"].id))
    assert queries.inbox_count(session, inspection["inspector"]) == 1
    assert queries.inbox_count(session, inspection["engineer"]) == 0  # not his role


def test_a_second_claim_or_completion_gets_a_clear_message_and_loses_nothing(app, session, inspection):
    from core.account_ops import assign_role
    from core.accounts import Role

    second_clerk = inspection["technician"]
    assign_role(session, None, second_clerk, session.scalar(select(Role).where(Role.code == "counter_clerk")),
                region(session, "shiraz-1"))
    instance = runtime.start_instance(session, inspection["clerk"], "meter_inspection", region(session, "shiraz-1"))
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
    session.commit()
    first, second = app.test_client(), app.test_client()
    login(first, "clerk")
    login(second, "technician")
    url = f"/cartable/items/{item.id}"
    first_page = first.get(url).get_data(as_text=True)
    second_page = second.get(url).get_data(as_text=True)
    assert first.post(f"{url}/claim", data={"csrf_token": csrf_token_from(first_page)}).status_code == 302
    refused = second.post(f"{url}/claim", data={"csrf_token": csrf_token_from(second_page)})
    assert refused.status_code == 409 and "کارشناس دیگری این کار را برداشته است." in refused.get_data(as_text=True)
    done = first.post(url, data={"csrf_token": csrf_token_from(first_page), "action": "complete",
                                 "subscription_no": "12345678", "reason": "faulty", "mobile": "09121234567"})
    assert done.status_code == 302
    late = second.post(url, data={"csrf_token": csrf_token_from(second_page), "action": "complete",
                                  "subscription_no": "87654321", "reason": "high_consumption",
                                  "mobile": "09351234567", "description": "متن من"})
    body = late.get_data(as_text=True)
    assert late.status_code == 409 and "متن من" in body and 'value="87654321"' in body
    assert "این کار را پیش‌تر کارشناس دیگری انجام داده است" in body


def test_overdue_items_are_announced_and_filterable(client, session, inspection):
    from datetime import timedelta

    from core.db import utcnow

    runtime.start_instance(session, inspection["clerk"], "meter_inspection", region(session, "shiraz-1"))
    late = runtime.start_instance(session, inspection["clerk"], "meter_inspection", region(session, "shiraz-1"))
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == late.id))
    item.due_at = utcnow() - timedelta(hours=1)
    session.commit()
    login(client, "clerk")
    inbox = client.get("/cartable").get_data(as_text=True)
    assert "۱ کار شما از مهلتش گذشته است." in inbox
    overdue_only = client.get("/cartable?due=overdue").get_data(as_text=True)
    assert overdue_only.count('data-testid="inbox-row"') == 1 and f"/cartable/items/{item.id}" in overdue_only
    by_step = client.get("/cartable?step=register_request").get_data(as_text=True)
    assert by_step.count('data-testid="inbox-row"') == 2


def test_platform_lookups_find_registry_records_in_my_regions(client, session, inspection):
    from subscribers.models import Contract, Subscriber

    login(client, "clerk")
    home = region(session, "shiraz-1")
    contract = session.scalar(select(Contract).where(Contract.region_id == home.id).order_by(Contract.id))
    found = client.get(f"/lookup/contracts?q={contract.subscription_no}").get_json()
    assert contract.id in [row["id"] for row in found]
    subscriber = session.scalar(select(Subscriber).where(Subscriber.region_id == region(session, "shiraz-1").id))
    name = subscriber.display_name.split()[-1].replace("ی", "ي")  # typed with the Arabic yeh
    hits = client.get(f"/lookup/subscribers?q={name}").get_json()
    assert subscriber.id in [row["id"] for row in hits]
    elsewhere = session.scalar(select(Subscriber).where(Subscriber.region_id != region(session, "shiraz-1").id,
                                                        Subscriber.region_id != region(session, "shiraz-1-maali").id))
    offered = client.get(f"/lookup/subscribers?q={elsewhere.display_name.split()[-1]}").get_json()
    assert elsewhere.id not in [row["id"] for row in offered]  # another region's subscriber is never offered


def test_the_inbox_shows_and_finds_requests_by_subscriber(client, session, inspection):
    from subscribers.models import Contract, Subscriber

    contract = session.scalar(select(Contract).where(Contract.region_id == region(session, "shiraz-1").id))
    subscriber = session.get(Subscriber, contract.subscriber_id)
    runtime.start_instance(session, inspection["clerk"], "meter_inspection", region(session, "shiraz-1"),
                           subscriber_id=subscriber.id, contract_id=contract.id)
    runtime.start_instance(session, inspection["clerk"], "meter_inspection", region(session, "shiraz-1"))
    session.commit()
    login(client, "clerk")
    inbox = client.get("/cartable").get_data(as_text=True)
    assert subscriber.display_name in inbox
    by_number = client.get(f"/cartable?q={contract.subscription_no}").get_data(as_text=True)
    assert by_number.count('data-testid="inbox-row"') == 1 and subscriber.display_name in by_number
    item = session.scalar(select(WorkItem).join(Instance).where(Instance.contract_id == contract.id))
    page = client.get(f"/cartable/items/{item.id}").get_data(as_text=True)
    assert subscriber.display_name in page and f"/subscribers/{subscriber.id}" in page


def test_the_next_expert_sees_what_the_earlier_step_recorded(client, session, inspection):
    from engine.cartable import complete

    instance = runtime.start_instance(session, inspection["clerk"], "meter_inspection", region(session, "shiraz-1"))
    first = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
    complete(session, inspection["clerk"], first.id, {"subscription_no": "10452318", "reason": "faulty",
                                                       "mobile": "09121234567", "description": "شمارنده گیر می‌کند"})
    session.commit()
    visit = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.status == "open"))
    login(client, "inspector")
    page = client.get(f"/cartable/items/{visit.id}").get_data(as_text=True)
    earlier = page[page.index("مراحل پیشین"):page.index("درخواست کجاست")]
    assert "شمارنده گیر می‌کند" in earlier and "کنتور خراب است" in earlier


def test_a_request_can_be_started_for_a_contract_and_a_wrong_number_is_refused(client, session, inspection):
    from subscribers.models import Contract

    contract = session.scalar(select(Contract).where(Contract.region_id == region(session, "shiraz-1").id))
    login(client, "clerk")
    page = client.get("/requests/new").get_data(as_text=True)
    region_id = re.search(r'<option value="(\d+)">امور یک شیراز', page).group(1)
    refused = client.post("/requests/new", data={"csrf_token": csrf_token_from(page), "process": "meter_inspection",
                                                 "region": region_id, "contract": "99999999"})
    assert refused.status_code == 422 and "اشتراکی با این شماره در امور شما نیست." in refused.get_data(as_text=True)
    assert session.scalar(select(Instance)) is None
    started = client.post("/requests/new", data={"csrf_token": csrf_token_from(page), "process": "meter_inspection",
                                                 "region": region_id, "contract": contract.subscription_no})
    assert started.status_code == 302
    instance = session.scalar(select(Instance))
    assert (instance.contract_id, instance.subscriber_id) == (contract.id, contract.subscriber_id)


def test_the_inbox_offers_exactly_my_items_whoever_holds_them_and_wherever_they_are(session, demo):
    """Mine: claimed by me, referred to me, or unclaimed for my role in my region or below. Not: another
    region, another role, claimed by or referred to someone else, done."""
    from datetime import timedelta

    from core.db import utcnow
    from tests.engine_support import deploy_test_request

    clerk, inspector = demo["clerk"], demo["inspector"]
    deploy_test_request(session, demo["analyst"])
    case = runtime.start_instance(session, clerk, "test_request", region(session, "shiraz-2"))  # not clerk's
    here, below, elsewhere = (region(session, code).id for code in ("shiraz-1", "shiraz-1-maali", "shiraz-2"))
    now = utcnow()
    rows = {  # name: (role, region, claimed by, referred to, status, due in hours), offered to the clerk?
        "unclaimed here": (("counter_clerk", here, None, None, "open", -2), True),
        "unclaimed below": (("counter_clerk", below, None, None, "open", 5), True),
        "claimed by me": (("counter_clerk", here, clerk, None, "open", 1), True),
        "other role, claimed by me": (("inspector", here, clerk, None, "open", 7), True),
        "referred to me, claimed": (("inspector", elsewhere, clerk, clerk, "open", -1), True),
        "referred to me, unclaimed": (("inspector", here, None, clerk, "open", 3), True),
        "another region": (("counter_clerk", elsewhere, None, None, "open", 2), False),
        "another role": (("inspector", here, None, None, "open", 2), False),
        "claimed by another": (("counter_clerk", here, inspector, None, "open", 2), False),
        "referred to another": (("counter_clerk", here, None, inspector, "open", 2), False),
        "done": (("counter_clerk", here, clerk, None, "completed", 2), False),
    }
    ids = {}
    for n, (name, ((role, region_id, claimer, referee, status, hours), _offered)) in enumerate(rows.items()):
        item = WorkItem(instance_id=case.id, task_id=f"t{n}", task_name=f"step{n}", title=name, role_code=role,
                        region_id=region_id, status=status, claimed_by_id=getattr(claimer, "id", None),
                        assignee_id=getattr(referee, "id", None), due_at=now + timedelta(hours=hours),
                        created_at=now - timedelta(minutes=n))
        session.add(item)
        session.flush()
        ids[name] = item.id
    expected = sorted((name for name, (_row, offered) in rows.items() if offered),
                      key=lambda name: rows[name][0][5])  # by due time

    page, total = queries.inbox(session, clerk, queries.InboxFilter())
    assert [row[0].title for row in page] == expected and total == len(expected) == 6
    assert queries.inbox_count(session, clerk) == 6
    assert queries.overdue_count(session, clerk) == 2
    second, total = queries.inbox(session, clerk, queries.InboxFilter(page=2, page_size=4))
    assert [row[0].title for row in second] == expected[4:] and total == 6
    received, _ = queries.inbox(session, clerk, queries.InboxFilter(sort="received", page_size=2))
    assert [row[0].id for row in received] == sorted(ids[name] for name in expected)[:2]  # newest first
    overdue, total = queries.inbox(session, clerk, queries.InboxFilter(due="overdue"))
    assert [row[0].title for row in overdue] == ["unclaimed here", "referred to me, claimed"] and total == 2
    by_request, total = queries.inbox(session, clerk, queries.InboxFilter(q=case.business_key[-6:]))
    assert total == 6 and {row[1].id for row in by_request} == {case.id}


@pytest.mark.parametrize("lock", [False, True])
def test_a_task_is_shown_to_whom_it_is_offered_to_its_starter_and_to_an_instances_admin_only(
        client, session, demo, lock):
    deploy_test_request(session, demo["analyst"])
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [first] = runtime.opened_items(session, instance.id)
    cartable.complete(session, demo["clerk"], first, {"capacity": 0})
    [approve] = runtime.opened_items(session, instance.id)  # the engineer's step
    session.commit()
    assert has_permission(session, demo["admin"], INSTANCES_ADMIN)
    for who, sees in (("engineer", True), ("clerk", True), ("admin", True), ("inspector", False)):
        item = item_for(session, demo[who], approve, lock)
        assert (item is not None) == sees, who
        if item is not None:
            assert item.task_name == "approve" and item.instance is instance
        session.rollback()  # each read in its own transaction, as each request is
    assert item_for(session, demo["engineer"], approve + 1000, lock) is None
    login(client, "inspector")
    assert client.get(f"/cartable/items/{approve}").status_code == 404
