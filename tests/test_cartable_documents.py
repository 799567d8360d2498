"""Documents on a request: uploaded through a form's document field or attached from the task page, shown
in the case file and the timeline, downloadable only by those who may see the request."""

import io

import pytest
from sqlalchemy import select

from engine import runtime, state
from engine.catalogue import deploy
from engine.models import InstanceEvent, WorkItem
from subscribers.models import Document, Subscriber
from tests.engine_support import read_bpmn, read_forms, region
from tests.helpers import csrf_token_from, login

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def request_with_papers(session, demo):
    """A test request whose first form asks for the capacity and the title deed."""
    forms = read_forms("test_register", "test_approve")
    forms["test_register"]["components"].append(
        {"type": "madam:document", "key": "deed", "label": "سند مالکیت", "validate": {"required": True},
         "properties": {"documentKind": "deed"}})
    deploy(session, None, read_bpmn("test_request.bpmn"), forms, source="tests/test_request.bpmn")
    shiraz = region(session, "shiraz-1")
    subscriber = session.scalar(select(Subscriber).where(Subscriber.region_id == shiraz.id))
    instance = runtime.start_instance(session, demo["clerk"], "test_request", shiraz, subscriber_id=subscriber.id)
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
    session.commit()
    return instance, item


def _task(client, item):
    return client.get(f"/cartable/items/{item.id}").get_data(as_text=True)


def test_a_form_upload_is_stored_as_the_requests_document(client, session, request_with_papers):
    instance, item = request_with_papers
    login(client, "clerk")
    page = _task(client, item)
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    response = client.post(f"/cartable/items/{item.id}", content_type="multipart/form-data", data={
        "csrf_token": csrf_token_from(page), "action": "complete", "capacity": "25",
        "deed": (io.BytesIO(PDF), "سند.pdf")})
    assert response.status_code == 302
    document = session.scalar(select(Document).where(Document.request_id == instance.id))
    assert (document.kind, document.filename, document.subscriber_id) == ("deed", "سند.pdf", instance.subscriber_id)
    session.refresh(instance)
    workflow = state.load(instance.version, instance.state)
    register = next(t for t in workflow.get_tasks() if t.task_spec.name == "register")
    assert register.data["deed"] == document.id


def test_a_refused_upload_names_the_field_and_keeps_nothing(client, session, request_with_papers):
    instance, item = request_with_papers
    login(client, "clerk")
    page = _task(client, item)
    response = client.post(f"/cartable/items/{item.id}", content_type="multipart/form-data", data={
        "csrf_token": csrf_token_from(page), "action": "complete", "capacity": "25",
        "deed": (io.BytesIO(b"<html><script>x</script></html>"), "deed.pdf")})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "سند مالکیت: فقط پرونده‌های PDF، JPEG و PNG پذیرفته می‌شوند." in body and 'value="25"' in body
    assert session.scalar(select(Document).where(Document.request_id == instance.id)) is None
    assert session.get(WorkItem, item.id).status == "open"


def test_another_field_wrong_means_the_file_is_not_stored(client, session, request_with_papers):
    instance, item = request_with_papers
    login(client, "clerk")
    page = _task(client, item)
    response = client.post(f"/cartable/items/{item.id}", content_type="multipart/form-data", data={
        "csrf_token": csrf_token_from(page), "action": "complete", "capacity": "0",
        "deed": (io.BytesIO(PDF), "deed.pdf")})
    assert response.status_code == 422
    assert session.scalar(select(Document).where(Document.request_id == instance.id)) is None


def test_a_document_attached_on_the_task_page_is_in_the_case_file_and_the_timeline(client, session,
                                                                                   request_with_papers):
    instance, item = request_with_papers
    login(client, "clerk")
    page = _task(client, item)
    response = client.post(f"/cartable/items/{item.id}/documents", content_type="multipart/form-data", data={
        "csrf_token": csrf_token_from(page), "kind": "photo", "file": (io.BytesIO(PNG), "کنتور.png")})
    assert response.status_code == 302
    document = session.scalar(select(Document).where(Document.request_id == instance.id))
    assert document.kind == "photo" and document.content_type == "image/png"
    page = _task(client, item)
    assert "کنتور.png" in page and "پیوست مدرک" in page
    event = session.scalar(select(InstanceEvent).where(InstanceEvent.action == "document_attached"))
    assert event.instance_id == instance.id and event.data["document_id"] == document.id
    download = client.get(f"/cartable/items/{item.id}/documents/{document.id}")
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_attaching_without_a_file_or_type_is_refused(client, session, request_with_papers):
    instance, item = request_with_papers
    login(client, "clerk")
    page = _task(client, item)
    response = client.post(f"/cartable/items/{item.id}/documents", content_type="multipart/form-data", data={
        "csrf_token": csrf_token_from(page), "kind": "photo"})
    assert response.status_code == 422 and "پرونده‌ای را که پیوست می‌شود انتخاب کنید." in response.get_data(
        as_text=True)
    assert session.scalar(select(Document).where(Document.request_id == instance.id)) is None


def test_a_request_document_is_not_served_to_someone_who_cannot_see_the_request(client, app, session,
                                                                              request_with_papers):
    from subscribers.documents import attach_document

    instance, item = request_with_papers
    document = attach_document(session, None, subscriber_id=None, kind="other", filename="x.pdf", content=PDF,
                               upload_dir=app.config["MADAM_UPLOAD_DIR"], request_id=instance.id)
    session.commit()
    login(client, "finance")  # not in the request's lane
    assert client.get(f"/cartable/items/{item.id}/documents/{document.id}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    login(client, "clerk")
    other = session.scalar(select(Document).where(Document.id != document.id))
    if other is not None and other.request_id != instance.id and other.subscriber_id != instance.subscriber_id:
        assert client.get(f"/cartable/items/{item.id}/documents/{other.id}").status_code == 404
    assert client.get(f"/cartable/items/{item.id}/documents/{document.id}").status_code == 200
    assert client.get(f"/subscribers/documents/{document.id}").status_code == 404  # not a subscriber's paper


def test_a_document_needs_a_subscriber_or_a_request(session, app, demo):
    from core.errors import DomainError
    from subscribers.documents import attach_document

    with pytest.raises(DomainError):
        attach_document(session, None, subscriber_id=None, kind="other", filename="x.pdf", content=PDF,
                        upload_dir=app.config["MADAM_UPLOAD_DIR"])
