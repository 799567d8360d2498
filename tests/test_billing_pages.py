"""Billing pages: Persian, by permission, limited to the user's regions; bad input is 422 with the
errors beside their fields and nothing saved."""

import io
import json
import re
import zlib
from datetime import date

from sqlalchemy import func, select

from billing import bills, readings, tariffs
from billing.models import Bill, MeterReading, TariffVersion, VersionStatus
from core.regions import Region
from core.text import to_persian_digits
from subscribers.models import Contract, Meter, MeterInstallation, ServicePoint
from tests.helpers import csrf_token_from, login


def contract_in(session, region="shiraz-1", utility="electricity") -> Contract:
    return session.scalar(select(Contract).join(ServicePoint).join(Region, Region.id == Contract.region_id)
                          .where(ServicePoint.utility == utility, Region.code == region)
                          .order_by(Contract.id).limit(1))


def with_readings(session, actor, contract, closing=1420):
    readings.record_reading(session, actor, contract.id, "single", date(2025, 6, 1), 1000, opening=True)
    readings.record_reading(session, actor, contract.id, "single", date(2025, 7, 31), closing)
    session.flush()


def pdf_fonts(data: bytes) -> set[bytes]:
    """The font names a PDF embeds, read from its (compressed) object streams."""
    names = set()
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            raw = zlib.decompress(match.group(1))
        except zlib.error:
            continue
        names |= {name.split(b"+")[-1] for name in re.findall(rb"/(?:BaseFont|FontName)\s*/([A-Za-z0-9+_-]+)", raw)}
    return names


def login_as(client, username):
    """Sign out whoever is signed in, then sign in as `username`."""
    home = client.get("/")
    if home.status_code == 200 and 'name="csrf_token"' in home.get_data(as_text=True):
        client.post("/logout", data={"csrf_token": csrf_token_from(home.get_data(as_text=True))})
    login(client, username)


def post(client, url, data, page_url):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_every_billing_page_needs_its_permission(client, demo, session):
    contract = contract_in(session)
    login_as(client, "inspector")  # no billing permission at all
    for url in ("/billing", "/billing/quote", f"/billing/contracts/{contract.id}", "/billing/tariffs",
                "/billing/tariff-types", "/billing/readings/upload"):
        assert client.get(url).status_code == 403, url
    login_as(client, "clerk")  # may view bills, may not manage tariffs or record readings
    assert client.get("/billing/quote").status_code == 200
    assert client.get("/billing/tariffs").status_code == 403
    assert client.get("/billing/readings/upload").status_code == 403
    page = client.get(f"/billing/contracts/{contract.id}").get_data(as_text=True)
    assert "ثبت قرائت" not in page  # looking only


def test_a_contract_outside_the_users_regions_is_refused_and_not_listed(client, demo, session):
    mine, theirs = contract_in(session), contract_in(session, "shiraz-2")
    for contract in (mine, theirs):
        with_readings(session, demo["billing"], contract)
        bills.issue(session, demo["billing"], contract.id, issued_on=date(2025, 8, 2))
    login_as(client, "clerk")  # the clerk works in shiraz-1
    assert client.get(f"/billing/contracts/{theirs.id}").status_code == 403
    their_bill = session.scalar(select(Bill).where(Bill.contract_id == theirs.id))
    assert client.get(f"/billing/bills/{their_bill.id}/print").status_code == 403
    assert client.get(f"/billing/bills/{their_bill.id}/pdf").status_code == 403
    listing = client.get("/billing").get_data(as_text=True)
    assert f"/billing/contracts/{mine.id}" in listing and f"/billing/contracts/{theirs.id}" not in listing
    response = client.get(f"/billing?q={theirs.subscription_no}")
    assert response.status_code == 200 and "در حوزه‌های شما" in response.get_data(as_text=True)
    assert client.get(f"/billing?q={mine.subscription_no}").headers["Location"].endswith(f"/contracts/{mine.id}")


def test_the_contract_page_previews_then_issues_the_bill_and_prints_it(client, demo, session):
    contract = contract_in(session)
    with_readings(session, demo["billing"], contract)
    login_as(client, "billing")
    page = client.get(f"/billing/contracts/{contract.id}").get_data(as_text=True)
    assert "پیش‌نمایش" in page and "E1-tropical" in page and "مالیات بر ارزش افزوده" in page
    assert "مبالغ این تعرفه‌ها نمونه‌اند" in page
    response = post(client, f"/billing/contracts/{contract.id}/issue", {}, f"/billing/contracts/{contract.id}")
    assert response.status_code == 302
    bill = session.scalar(select(Bill).where(Bill.contract_id == contract.id))
    printed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'lang="fa" dir="rtl"' in printed and "<svg" in printed and "قابل پرداخت" in printed
    from billing.printing import barcode_svg
    from core.identifiers import bill_barcode
    digits = bill_barcode(bill.bill_id, bill.payment_id)
    assert barcode_svg(digits) in printed and digits in printed
    for line in bill.quote["lines"]:  # every line, with Persian digits
        assert to_persian_digits(line["label"]) in printed
    assert "size: A5" in client.get(f"/billing/bills/{bill.id}/print?size=a5").get_data(as_text=True)
    pdf = client.get(f"/billing/bills/{bill.id}/pdf?size=a5")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert any(name.endswith(b"Vazirmatn") for name in pdf_fonts(pdf.data))  # the Persian font is embedded
    # issuing twice for the period is refused with a message, nothing more posted
    again = post(client, f"/billing/contracts/{contract.id}/issue", {}, f"/billing/contracts/{contract.id}")
    assert again.status_code == 303
    assert session.scalar(select(func.count()).select_from(Bill).where(Bill.contract_id == contract.id)) == 1


def test_recording_a_reading_with_bad_input_is_422_and_saves_nothing(client, demo, session):
    contract = contract_in(session)
    login_as(client, "billing")
    url = f"/billing/contracts/{contract.id}"
    response = post(client, f"{url}/readings", {"reading-register": "single", "reading-read_on": "1404/13/01",
                                                "reading-value": "abc", "reading-source": "read"}, url)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "تاریخ را به شمسی وارد کنید" in html
    assert session.scalar(select(func.count()).select_from(MeterReading)) == 0
    response = post(client, f"{url}/readings", {"reading-register": "single", "reading-read_on": "۱۴۰۴/۰۵/۰۹",
                                                "reading-value": "۱۲۳", "reading-source": "read"}, url)
    assert response.status_code == 302
    assert session.scalar(select(MeterReading.value).where(MeterReading.contract_id == contract.id)) == 123


def test_a_flagged_reading_is_accepted_with_a_reason_from_the_page(client, demo, session):
    contract = contract_in(session)
    readings.record_reading(session, demo["billing"], contract.id, "single", date(2025, 6, 1), 5000, opening=True)
    flagged = readings.record_reading(session, demo["billing"], contract.id, "single", date(2025, 7, 31), 4000)
    login_as(client, "billing")
    url = f"/billing/contracts/{contract.id}"
    page = client.get(url).get_data(as_text=True)
    assert "مصرف منفی" in page and "پیش از صدور" in page  # flagged, so no preview yet
    response = post(client, f"/billing/readings/{flagged.id}/override", {"override-reason": "کنتور تعویض شد"}, url)
    assert response.status_code == 302
    session.refresh(flagged)
    assert flagged.override_reason == "کنتور تعویض شد"


def test_the_csv_upload_reports_each_line(client, demo, session):
    one = contract_in(session)
    serial = session.scalar(select(Meter.serial).join(MeterInstallation).where(
        MeterInstallation.service_point_id == one.service_point_id))
    content = f"serial,register,date,value\n{serial},single,1404/05/01,500\nNOPE,single,1404/05/01,1\n{serial},x"
    login_as(client, "billing")
    token = csrf_token_from(client.get("/billing/readings/upload").get_data(as_text=True))
    response = client.post("/billing/readings/upload", data={
        "csrf_token": token, "file": (io.BytesIO(content.encode()), "readings.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "۱ سطر ثبت شد، ۲ سطر پذیرفته نشد" in html and "NOPE" in html
    assert session.scalar(select(func.count()).select_from(MeterReading)) == 1


def test_a_draft_is_edited_with_persian_field_errors_then_published(client, demo, session):
    login_as(client, "billing")
    kind = tariffs.find_tariff_type(session, "water", "1")
    response = post(client, "/billing/tariffs", {"tariff_type": kind.id, "code": "W1-2026",
                                                 "effective_from": "1405/01/01", "name": ""}, "/billing/tariffs")
    assert response.status_code == 302
    draft = session.scalar(select(TariffVersion).where(TariffVersion.code == "W1-2026"))
    url = f"/billing/tariffs/{draft.id}"
    bad = {**draft.data, "blocks": [{"upto": 10, "rate": "abc"}], "sewage_percent": -3}
    response = post(client, url, {"effective_from": "1405/01/01", "name": "آب ۱۴۰۵",
                                  "tariff_json": json.dumps(bad)}, url)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "blocks[0].rate" in html and "sewage_percent" in html and "عدد" in html
    response = post(client, url, {"effective_from": "1405/01/01", "name": "", "tariff_json": "{not json"}, url)
    assert response.status_code == 422 and "JSON" in response.get_data(as_text=True)
    session.refresh(draft)
    assert draft.data["blocks"] != bad["blocks"]
    example = session.scalar(select(TariffVersion).where(TariffVersion.code == "W1-residential"))
    response = post(client, url, {"effective_from": "1405/01/01", "name": "آب ۱۴۰۵",
                                  "tariff_json": json.dumps(example.data, ensure_ascii=False)}, url)
    assert response.status_code == 302
    assert post(client, f"{url}/publish", {}, url).status_code == 302
    session.refresh(draft)
    assert draft.status == VersionStatus.PUBLISHED and draft.name == "آب 1405"  # digits stored as ASCII
    assert "دیگر تغییر" in client.get(url).get_data(as_text=True)
    response = post(client, url, {"effective_from": "1405/01/01", "tariff_json": "{}"}, url)
    assert response.status_code == 422  # a published version is not edited


def test_the_quote_calculator_shows_the_lines_or_the_field_errors(client, demo, session):
    login_as(client, "clerk")
    kind = tariffs.find_tariff_type(session, "electricity", "1")
    base = f"/billing/quote?calculate=1&tariff={kind.id}:E1-normal&climate_zone=normal&capacity_class=1phase_25A"
    page = client.get(base + "&start=1404/01/01&end=1404/01/31&total=۳۵۰")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="quote-result"' in html and "قابل پرداخت" in html and "example-notice" in html
    bad = client.get(base + "&start=1404/01/31&end=1404/01/01&total=-5")
    assert bad.status_code == 422
    assert "invalid-feedback" in bad.get_data(as_text=True)


def test_tariff_types_are_managed_by_permission(client, demo, session):
    login_as(client, "clerk")
    assert client.get("/billing/tariff-types").status_code == 403
    login_as(client, "billing")
    page = client.get("/billing/tariff-types").get_data(as_text=True)
    assert "کشاورزی" in page and "تجاری و سایر مصارف" in page
    response = post(client, "/billing/tariff-types", {"utility": "gas", "code": "", "slug": "cng", "name": ""},
                    "/billing/tariff-types")
    assert response.status_code == 422 and "پر کردن این خانه لازم است" in response.get_data(as_text=True)
    response = post(client, "/billing/tariff-types", {"utility": "gas", "code": "6", "slug": "cng",
                                                      "name": "جایگاه سی‌ان‌جی"}, "/billing/tariff-types")
    assert response.status_code == 302
    assert ("6", "جایگاه سی‌ان‌جی") in tariffs.tariff_type_choices(session, "gas")


def test_cancel_and_rebill_from_the_page_needs_a_reason_and_corrects_the_reading(client, demo, session):
    contract = contract_in(session)
    with_readings(session, demo["billing"], contract)
    wrong = bills.issue(session, demo["billing"], contract.id, issued_on=date(2025, 8, 2))
    url = f"/billing/contracts/{contract.id}"
    login_as(client, "clerk")  # may look, not cancel
    assert post(client, f"/billing/bills/{wrong.id}/rebill", {"rebill-reason": "x"}, url).status_code == 403
    login_as(client, "billing")
    response = post(client, f"/billing/bills/{wrong.id}/rebill", {"rebill-reason": ""}, url)
    assert response.status_code == 422 and "پر کردن این خانه لازم است" in response.get_data(as_text=True)
    session.refresh(wrong)
    assert wrong.status == "issued"
    response = post(client, f"/billing/bills/{wrong.id}/rebill",
                    {"rebill-reason": "خطای قرائت", "correction_single": "۱۳۰۰"}, url)
    assert response.status_code == 302
    session.refresh(wrong)
    new = session.scalar(select(Bill).where(Bill.replaces_id == wrong.id))
    assert wrong.status == "cancelled" and new.usage["registers"] == {"total": 300}
    page = client.get(url).get_data(as_text=True)
    assert "خطای قرائت" in page and "لغوشده" in page


def test_estimating_a_broken_meter_from_the_page(client, demo, session):
    contract = contract_in(session)
    for n, value in enumerate([1000, 1300, 1600, 1900]):
        readings.record_reading(session, demo["billing"], contract.id, "single", date(2025, 1 + n, 1), value)
    url = f"/billing/contracts/{contract.id}"
    login_as(client, "billing")
    response = post(client, f"{url}/estimate", {"estimate-read_on": "", "estimate-reason": ""}, url)
    assert response.status_code == 422
    response = post(client, f"{url}/estimate", {"estimate-read_on": "1404/01/15", "estimate-reason": "کنتور سوخته"},
                    url)
    assert response.status_code == 302
    estimated = session.scalar(select(MeterReading).where(MeterReading.source == "estimated"))
    assert estimated.read_on == date(2025, 4, 4) and estimated.reader_name == "کنتور سوخته"
    assert "برآوردی" in client.get(url).get_data(as_text=True)


def test_a_drafts_blocks_are_edited_as_a_form_with_errors_beside_the_cells(client, demo, session):
    kind = tariffs.find_tariff_type(session, "electricity", "5")
    draft = tariffs.create_draft(session, demo["billing"], kind.id, "E5-commercial", date(2026, 3, 21))
    rest = {k: v for k, v in draft.data.items() if k != "blocks"}
    login_as(client, "billing")
    url = f"/billing/tariffs/{draft.id}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    bad = client.post(f"{url}/structured", data={"csrf_token": token, "upto": ["200", "100", ""],
                                                 "rate": ["۱۵۰۰", "abc", "3000"], "vat_percent": "10"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="rate-1" name="rate" value="abc"' in html and "is-invalid" in html and "عدد" in html
    session.refresh(draft)
    assert draft.data["blocks"] != [{"upto": 200, "rate": 1500}]
    good = client.post(f"{url}/structured", data={"csrf_token": token, "upto": ["200", ""],
                                                  "rate": ["۱۵۰۰", "3000"], "vat_percent": "9"})
    assert good.status_code == 302
    session.refresh(draft)
    assert draft.data["blocks"] == [{"upto": 200, "rate": 1500}, {"upto": None, "rate": 3000}]
    assert draft.data["vat"]["percent"] == 9
    assert {k: v for k, v in draft.data.items() if k not in ("blocks", "vat")} == \
        {k: v for k, v in rest.items() if k != "vat"}
