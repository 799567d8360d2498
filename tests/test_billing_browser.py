"""A billing expert in a real browser: finds a contract, reads the next bill's preview, issues it and
gets the printed bill with its barcode, in Persian and right to left."""

from datetime import date

import pytest
from sqlalchemy import select

from billing import readings
from billing.models import Bill
from core.db import db
from core.identifiers import bill_barcode
from core.regions import Region
from subscribers.models import Contract, ServicePoint

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, username="billing", password="madam1403"):
    page.goto(f"{live_server}/login")
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill(password)
    page.get_by_role("button", name="ورود", exact=True).click()
    page.wait_for_url(f"{live_server}/")


def test_preview_issue_and_print_a_bill(page, live_server, app):
    with app.app_context():
        contract = db.session.scalar(
            select(Contract).join(ServicePoint).join(Region, Region.id == Contract.region_id)
            .where(ServicePoint.utility == "electricity", Region.code == "shiraz-1").order_by(Contract.id).limit(1))
        readings.record_reading(db.session, None, contract.id, "single", date(2025, 6, 1), 1000, opening=True)
        readings.record_reading(db.session, None, contract.id, "single", date(2025, 7, 31), 1420)
        db.session.commit()
        contract_id, subscription_no = contract.id, contract.subscription_no
        db.session.remove()

    _sign_in(page, live_server)
    page.get_by_role("link", name="صورتحساب", exact=True).click()
    page.get_by_label("شمارهٔ اشتراک یا شناسهٔ قبض").fill(subscription_no)
    page.get_by_role("button", name="باز کردن").click()
    page.wait_for_url(f"{live_server}/billing/contracts/{contract_id}")
    assert page.get_by_test_id("example-notice").is_visible()
    preview = page.get_by_test_id("bill-lines")
    assert "مالیات بر ارزش افزوده" in preview.inner_text()
    payable = page.get_by_test_id("payable").inner_text()

    page.get_by_role("button", name="صدور صورتحساب و ثبت در حساب مشترک").click()
    page.wait_for_url("**/billing/bills/*/print")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_test_id("print-payable").inner_text() == payable
    barcode = page.get_by_test_id("barcode").locator("svg")
    assert barcode.is_visible() and barcode.bounding_box()["width"] > 200
    with app.app_context():
        bill = db.session.scalar(select(Bill).where(Bill.contract_id == contract_id))
        digits = bill_barcode(bill.bill_id, bill.payment_id)
        db.session.remove()
    assert barcode.get_attribute("aria-label") == digits
    assert page.evaluate("document.fonts.check('16px Vazirmatn')")
    page.get_by_role("link", name="A5").click()
    page.wait_for_url("**/print?size=a5")
    assert page.get_by_test_id("print-payable").inner_text() == payable
