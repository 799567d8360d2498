"""The UI shell in a real browser: sign in, Persian right-to-left, switch to English, phone width."""

import pytest

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, username="admin", password="madam1403"):
    page.goto(f"{live_server}/login")
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill(password)
    page.get_by_role("button", name="ورود", exact=True).click()


def test_sign_in_is_persian_rtl_and_switches_to_english(page, live_server):
    page.goto(f"{live_server}/login")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "fa"
    # Bootstrap's RTL build and Vazirmatn are really loaded (not 404s).
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert "Vazirmatn" in page.evaluate("getComputedStyle(document.body).fontFamily")

    _sign_in(page, live_server)
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_test_id("current-user").inner_text() == "حسن کاظمی"
    assert page.get_by_role("heading", level=1).inner_text().startswith("حسن کاظمی")
    assert page.get_by_role("link", name="کاربران").is_visible()

    page.get_by_test_id("switch-language").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Users").is_visible()
    assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"

    page.get_by_test_id("switch-language").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"


def test_wrong_password_shows_a_persian_message(page, live_server):
    _sign_in(page, live_server, password="not-the-password")
    assert page.get_by_test_id("form-error").inner_text() == "نام کاربری یا گذرواژه نادرست است."
    assert page.get_by_label("نام کاربری").input_value() == "admin"


def test_phone_width_has_a_menu_button_and_no_sideways_scroll(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="fa-IR")
    page = context.new_page()
    try:
        _sign_in(page, live_server, username="clerk")
        page.wait_for_url(f"{live_server}/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        menu = page.get_by_role("button", name="فهرست")
        assert menu.is_visible()
        assert not page.get_by_role("button", name="خروج").is_visible()
        menu.click()
        page.get_by_role("button", name="خروج").wait_for(state="visible")
        # A clerk's menu offers what she may use and nothing more.
        assert page.get_by_role("link", name="کاربران").count() == 0
    finally:
        context.close()
