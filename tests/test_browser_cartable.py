"""The cartable in a real browser: a clerk starts a request, fixes an invalid field and sends the case on;
the inspector finds it, takes it and completes it; the timeline shows both steps."""

import pytest

from core.db import db
from engine.catalogue import sync_directory
from madam.settings import REPO_ROOT

pytestmark = pytest.mark.browser


@pytest.fixture
def deployed(app, live_server):
    with app.app_context():
        sync_directory(db.session, None, REPO_ROOT / "processes", REPO_ROOT / "forms")
        db.session.commit()
        db.session.remove()
    return live_server


def _sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill("madam1403")
    page.get_by_role("button", name="ورود", exact=True).click()
    page.wait_for_url(f"{base}/")


def _sign_out(page):
    page.get_by_role("button", name="خروج").click()


def test_clerk_to_inspector_through_the_cartable(page, deployed):
    base = deployed
    _sign_in(page, base, "clerk")
    page.get_by_role("link", name="کارتابل").click()
    page.get_by_role("link", name="درخواست تازه").click()
    page.get_by_role("button", name="آغاز").first.click()
    page.get_by_role("heading", name="ثبت درخواست بازدید").wait_for()
    number = page.locator(".breadcrumb-item.active").inner_text()

    page.get_by_label("شماره اشتراک").fill("۱۲۳۴۵۶۷۸")
    page.get_by_label("علت درخواست").select_option("faulty")
    page.get_by_label("تلفن همراه مشترک").fill("0912")  # too short
    page.get_by_label("شرح درخواست").fill("کنتور صدای غیرعادی دارد")
    page.get_by_role("button", name="انجام شد — ارسال").click()
    mobile = page.get_by_label("تلفن همراه مشترک")
    error = page.locator("#" + mobile.get_attribute("aria-describedby").split()[-1])
    assert "۱۱ رقم" in error.inner_text()  # beside the field, in Persian, naming what is wrong
    assert page.get_by_label("شرح درخواست").input_value() == "کنتور صدای غیرعادی دارد"
    assert page.get_by_label("تلفن همراه مشترک").input_value() == "0912"
    page.get_by_label("تلفن همراه مشترک").fill("09121234567")
    page.get_by_role("button", name="انجام شد — ارسال").click()
    page.wait_for_url(f"{base}/cartable")
    _sign_out(page)

    _sign_in(page, base, "inspector")
    page.get_by_role("link", name="کارتابل").click()
    assert page.locator("[data-testid=nav-badge]").inner_text() == "۱"
    assert page.get_by_role("link", name="کار تازه: بازدید از محل و آزمون کنتور").is_visible()  # the notice
    page.get_by_role("link", name="بازدید از محل و آزمون کنتور", exact=True).click()
    assert page.locator(".breadcrumb-item.active").inner_text() == number
    page.locator(".madam-diagram[data-ready=true]").wait_for()  # drawn from a generated layout
    assert page.locator(".madam-diagram .madam-current").count() == 1  # the step he is on
    page.get_by_role("button", name="برداشتن کار").click()
    page.get_by_label("تاریخ بازدید").fill("۱۴۰۵/۰۹/۰۷")
    page.get_by_label("کارکرد کنتور هنگام بازدید").fill("12034")
    page.get_by_label("کنتور سالم است", exact=True).check()
    page.get_by_role("button", name="انجام شد — ارسال").click()
    page.wait_for_url(f"{base}/cartable")
    assert "چیزی در انتظار شما نیست" in page.content()

    page.goto(f"{base}/requests/mine")  # the inspector started nothing
    _sign_out(page)
    _sign_in(page, base, "clerk")
    page.goto(f"{base}/requests/mine")
    assert "پایان‌یافته" in page.content()
    page.goto(f"{base}/cartable/items/1")
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "ثبت درخواست بازدید" in timeline and "بازدید از محل و آزمون کنتور" in timeline
    assert "زهرا احمدی" in timeline and "علی رضایی" in timeline
