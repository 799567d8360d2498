"""The search page and the profile in a real browser: Persian search, the result, the map."""

import pytest
from sqlalchemy import select

from core.db import db
from core.regions import Region
from subscribers.models import Subscriber

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, username="clerk", password="madam1403"):
    page.goto(f"{live_server}/login")
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill(password)
    page.get_by_role("button", name="ورود", exact=True).click()
    page.wait_for_url(f"{live_server}/")


def test_search_with_arabic_letters_then_open_the_profile(page, live_server, app):
    with app.app_context():
        shiraz1 = db.session.scalar(select(Region.id).where(Region.code == "shiraz-1"))
        person = db.session.scalar(select(Subscriber).where(Subscriber.region_id == shiraz1).order_by(Subscriber.id))
        name, national_id = person.display_name, person.national_id
        db.session.remove()

    _sign_in(page, live_server)
    page.get_by_role("link", name="مشترکین", exact=True).click()
    page.wait_for_url(f"{live_server}/subscribers")
    box = page.get_by_role("searchbox").or_(page.locator("#q"))
    box.first.fill(name.replace("ی", "ي").replace("ک", "ك"))  # typed on an Arabic keyboard
    page.get_by_role("button", name="جستجو").click()
    results = page.get_by_test_id("search-results")
    assert national_id.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in results.inner_text()

    page.get_by_role("link", name=name).first.click()
    assert page.get_by_test_id("subscriber-name").inner_text() == name
    assert page.get_by_role("heading", name="اشتراک‌ها").is_visible()
    page.locator(".subscriber-map[data-ready='1']").wait_for()  # Leaflet ran (tiles need no network here)
    assert page.locator(".leaflet-marker-icon").count() == 1
    summary = page.get_by_test_id("ledger-summary").inner_text()
    assert "تسویه" in summary  # a new contract owes nothing yet


def test_the_clerk_is_refused_another_regions_profile(page, live_server, app):
    with app.app_context():
        shiraz2 = db.session.scalar(select(Region.id).where(Region.code == "shiraz-2"))
        other = db.session.scalar(select(Subscriber.id).where(Subscriber.region_id == shiraz2))
        db.session.remove()
    _sign_in(page, live_server)
    response = page.goto(f"{live_server}/subscribers/{other}")
    assert response.status == 403
