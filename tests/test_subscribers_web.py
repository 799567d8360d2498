"""The registry's pages and API: forms, escaping, uploads, permissions and regions."""

import pytest
from sqlalchemy import select

from core.regions import Region
from subscribers import operations
from subscribers.models import Document, Subscriber
from tests.helpers import csrf_token_from, login

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _region(session, code):
    return session.scalar(select(Region).where(Region.code == code))


@pytest.fixture
def shiraz2_subscriber(session, demo):
    return operations.create_subscriber(session, None, {
        "kind": "person", "first_name": "<script>alert(1)</script>", "last_name": "حسینی",
        "national_id": "0084575948", "region_id": _region(session, "shiraz-2").id})


@pytest.fixture
def shiraz1_subscriber(session, demo):
    subscriber = operations.create_subscriber(session, None, {
        "kind": "person", "first_name": "مینا", "last_name": "رستگار", "national_id": "0499370899",
        "region_id": _region(session, "shiraz-1").id})
    operations.create_premise(session, None, subscriber, {
        "province": "فارس", "city": "شیراز", "street": "خیابان زند", "postal_code": "7134567890",
        "latitude": "29.61", "longitude": "52.53", "region_id": subscriber.region_id})
    return subscriber


def test_creating_a_subscriber_with_a_bad_national_id_saves_nothing(client, session, demo):
    login(client, "clerk")
    page = client.get("/subscribers/new").get_data(as_text=True)
    response = client.post("/subscribers/new", data={
        "csrf_token": csrf_token_from(page), "kind": "person", "first_name": "نيما", "last_name": "كاظمي",
        "national_id": "0499370898", "region": _region(session, "shiraz-1").id})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "این کد ملی معتبر نیست." in body
    assert session.scalar(select(Subscriber).where(Subscriber.national_id == "0499370898")) is None


def test_creating_a_subscriber_then_a_duplicate(client, session, demo):
    login(client, "clerk")
    data = {"kind": "person", "first_name": "نيما", "last_name": "كاظمي", "national_id": "۰۴۹۹۳۷۰۸۹۹",
            "mobile": "+989121234567", "birth_date": "۱۳۶۵/۰۴/۱۲", "region": _region(session, "shiraz-1").id}
    page = client.get("/subscribers/new").get_data(as_text=True)
    response = client.post("/subscribers/new", data={**data, "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    subscriber = session.scalar(select(Subscriber).where(Subscriber.national_id == "0499370899"))
    assert (subscriber.first_name, subscriber.mobile) == ("نیما", "09121234567")
    again = client.post("/subscribers/new", data={**data, "csrf_token": csrf_token_from(page)})
    assert again.status_code == 422 and "مشترکی با این کد ملی پیش‌تر ثبت شده است." in again.get_data(as_text=True)


def test_a_clerk_cannot_register_in_another_region(client, session, demo):
    login(client, "clerk")
    page = client.get("/subscribers/new").get_data(as_text=True)
    response = client.post("/subscribers/new", data={
        "csrf_token": csrf_token_from(page), "kind": "person", "first_name": "الف", "last_name": "ب",
        "national_id": "0499370899", "region": _region(session, "shiraz-2").id})
    assert response.status_code == 422  # not one of her regions' choices
    assert session.scalar(select(Subscriber).where(Subscriber.national_id == "0499370899")) is None


def test_a_name_with_a_script_tag_is_shown_escaped(client, shiraz2_subscriber):
    login(client, "engineer")
    body = client.get(f"/subscribers/{shiraz2_subscriber.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    results = client.get("/subscribers?q=0084575948").get_data(as_text=True)
    assert "&lt;script&gt;" in results and "<script>alert" not in results


def test_profile_is_checked_against_the_subscribers_region(client, shiraz1_subscriber, shiraz2_subscriber):
    login(client, "clerk")  # her role is in shiraz-1
    own = client.get(f"/subscribers/{shiraz1_subscriber.id}")
    assert own.status_code == 200 and "مینا رستگار" in own.get_data(as_text=True)
    assert 'class="subscriber-map' in own.get_data(as_text=True)
    assert client.get(f"/subscribers/{shiraz2_subscriber.id}").status_code == 403
    assert client.get(f"/subscribers/{shiraz2_subscriber.id}/edit").status_code == 403
    listing = client.get("/subscribers?q=حسینی").get_data(as_text=True)
    assert f"/subscribers/{shiraz2_subscriber.id}" not in listing


def test_the_analyst_may_not_see_the_registry(client, demo):
    login(client, "analyst")
    assert client.get("/subscribers").status_code == 403
    assert client.get("/api/v1/subscribers").status_code == 403


def test_the_map_tiles_origin_is_allowed_by_the_csp(client, shiraz1_subscriber):
    login(client, "clerk")
    response = client.get(f"/subscribers/{shiraz1_subscriber.id}")
    assert "img-src 'self' data: https://tile.openstreetmap.org" in response.headers["Content-Security-Policy"]


def _upload(client, subscriber_id, content, name="deed.pdf"):
    page = client.get(f"/subscribers/{subscriber_id}").get_data(as_text=True)
    import io

    return client.post(f"/subscribers/{subscriber_id}/documents", content_type="multipart/form-data", data={
        "csrf_token": csrf_token_from(page), "kind": "deed", "file": (io.BytesIO(content), name)})


def test_upload_and_download_a_document(client, app, session, shiraz1_subscriber):
    login(client, "clerk")
    assert _upload(client, shiraz1_subscriber.id, PDF, "سند.pdf").status_code == 302
    document = session.scalar(select(Document).where(Document.subscriber_id == shiraz1_subscriber.id))
    assert document.content_type == "application/pdf" and document.size == len(PDF)
    stored = f"{app.config['MADAM_UPLOAD_DIR']}/{document.sha256[:2]}/{document.sha256}"
    assert open(stored, "rb").read() == PDF and "web/static" not in stored
    download = client.get(f"/subscribers/documents/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_an_upload_of_the_wrong_type_is_refused(client, session, shiraz1_subscriber):
    login(client, "clerk")
    response = _upload(client, shiraz1_subscriber.id, b"<html><script>x</script></html>", "fake.pdf")
    assert response.status_code == 422
    assert "فقط پرونده‌های PDF، JPEG و PNG پذیرفته می‌شوند." in response.get_data(as_text=True)
    assert session.scalar(select(Document).where(Document.subscriber_id == shiraz1_subscriber.id)) is None


def test_an_upload_too_large_is_refused(client, app, session, shiraz1_subscriber):
    login(client, "clerk")
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2000
    try:
        response = _upload(client, shiraz1_subscriber.id, PDF + b"0" * 5000)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert session.scalar(select(Document).where(Document.subscriber_id == shiraz1_subscriber.id)) is None


def test_a_download_is_checked_against_the_region(client, app, session, shiraz2_subscriber):
    from subscribers.documents import attach_document

    document = attach_document(session, None, subscriber_id=shiraz2_subscriber.id, kind="deed", filename="a.pdf",
                               content=PDF, upload_dir=app.config["MADAM_UPLOAD_DIR"])
    login(client, "clerk")
    assert client.get(f"/subscribers/documents/{document.id}").status_code == 403
