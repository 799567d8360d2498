"""New connection in a real browser, through the cartables of the roles that work it: the clerk registers
the request and checks the documents, the inspector surveys the site, the engineer approves, finance posts
the fee's payment on the contract's ledger page, and the technician installs the meter; the contract is
active at the end and the clerk's request shows it done."""

import pytest
from sqlalchemy import select

from core.db import db
from engine.catalogue import sync_directory
from engine.models import Instance
from madam.settings import REPO_ROOT
from subscribers import meter_ops
from subscribers.models import Contract, MeterInstallation, Subscriber
from tests.engine_support import region

pytestmark = pytest.mark.browser
SUBMIT = "انجام شد — ارسال"


@pytest.fixture
def deployed(app, live_server):
    with app.app_context():
        sync_directory(db.session, None, REPO_ROOT / "processes", REPO_ROOT / "forms")
        shiraz = region(db.session, "shiraz-1")
        meter_ops.register_meter(db.session, None, {"serial": "BR-E-0001", "utility": "electricity",
                                                    "kind": "digital", "region_id": shiraz.id})
        applicant = db.session.scalar(select(Subscriber).where(Subscriber.region_id == shiraz.id)
                                      .order_by(Subscriber.id))
        db.session.commit()
        applicant_id = applicant.id
        db.session.remove()
    return live_server, applicant_id


def _sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill("madam1403")
    page.get_by_role("button", name="ورود", exact=True).click()
    page.wait_for_url(f"{base}/")


def _sign_out(page):
    page.get_by_role("button", name="خروج").click()


def _take_from_cartable(page, base, title):
    page.goto(f"{base}/cartable")
    page.get_by_role("link", name=title, exact=True).click()
    page.get_by_role("button", name="برداشتن کار").click()
    page.get_by_role("heading", name=title).wait_for()


def _submit(page, base):
    page.get_by_role("button", name=SUBMIT).click()
    page.wait_for_url(f"{base}/cartable")


def test_new_connection_from_the_first_form_to_the_active_contract(page, app, deployed):
    base, applicant_id = deployed
    _sign_in(page, base, "clerk")
    page.goto(f"{base}/requests/new")
    card = page.locator("form.card", has=page.get_by_role("heading", name="درخواست انشعاب جدید"))
    card.get_by_role("button", name="آغاز").click()
    page.get_by_role("heading", name="ثبت درخواست انشعاب").wait_for()
    page.get_by_label("متقاضی (مشترک ثبت‌شده)").fill(str(applicant_id))
    page.get_by_label("نوع و ظرفیت انشعاب").select_option("electricity-1-25")
    page.get_by_label("نوع تعرفه").select_option("residential")
    page.get_by_label("کاربری ملک").select_option("residential")
    page.get_by_label("استان").fill("فارس")
    page.get_by_label("شهر").fill("شیراز")
    page.get_by_label("خیابان").fill("خیابان نیایش")
    page.get_by_label("پلاک").fill("۴۵")
    page.get_by_label("کد پستی").fill("۷۱۳۴۵۶۷۸۹۰")
    page.get_by_label("کارت ملی").check()
    page.get_by_label("سند مالکیت").check()
    _submit(page, base)

    _take_from_cartable(page, base, "بررسی مدارک")
    page.get_by_label("مدارک کامل و معتبر است").check()
    _submit(page, base)
    _sign_out(page)

    _sign_in(page, base, "inspector")
    _take_from_cartable(page, base, "بازدید از محل")
    page.get_by_label("تاریخ بازدید").fill("۱۴۰۵/۰۹/۰۷")
    page.get_by_label("برقراری انشعاب از شبکه موجود امکان‌پذیر است").check()
    page.locator("#f-survey_location-lat").fill("29.6123")
    page.locator("#f-survey_location-lng").fill("52.5311")
    page.get_by_label("فاصله تا شبکه (متر)").fill("۱۲")
    _submit(page, base)
    _sign_out(page)

    _sign_in(page, base, "engineer")
    _take_from_cartable(page, base, "تأیید فنی")
    page.get_by_label("تأیید و صدور صورتحساب هزینه انشعاب").check()
    _submit(page, base)
    _sign_out(page)

    with app.app_context():
        instance = db.session.scalar(select(Instance).where(Instance.process_key == "new_connection"))
        contract = db.session.get(Contract, instance.contract_id)
        contract_id, status = contract.id, contract.status
        db.session.remove()
    assert status == "requested"

    _sign_in(page, base, "finance")
    page.goto(f"{base}/ledger/contracts/{contract_id}")
    assert "۳۰٬۰۰۰٬۰۰۰" in page.content()  # the connection fee is the open debt
    page.locator("#payment-amount").fill("30000000")
    page.locator("#payment-paid_on").fill("۱۴۰۵/۰۹/۰۷")
    page.locator("#payment-reference").fill("BR-778812")
    page.locator("#payment-title ~ form button[type=submit]").click()
    page.locator(".alert-success").wait_for()
    _sign_out(page)

    _sign_in(page, base, "technician")
    _take_from_cartable(page, base, "نصب کنتور")
    page.locator(".madam-diagram[data-ready=true]").wait_for()  # the whole procedure drawn, this step marked
    assert page.locator(".madam-diagram .madam-current").count() == 1
    page.get_by_label("کارکرد اولیه کنتور").fill("۳")
    page.get_by_label("تاریخ نصب").fill("۱۴۰۵/۰۹/۰۷")
    page.get_by_label("کنتور پلمب شد").check()
    _submit(page, base)
    _sign_out(page)

    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        installed = db.session.scalar(select(MeterInstallation)
                                      .where(MeterInstallation.service_point_id == contract.service_point_id))
        assert contract.status == "active" and installed.meter.serial == "BR-E-0001"
        subscription_no = contract.subscription_no
        db.session.remove()

    _sign_in(page, base, "clerk")
    page.goto(f"{base}/requests/mine")
    assert "پایان‌یافته" in page.content()
    page.goto(f"{base}/cartable/items/1")
    timeline = page.get_by_test_id("timeline").inner_text()
    assert f"انجام شد: اشتراک {subscription_no} با شناسه قبض" in timeline  # the outcome, on the request
