"""A report in a real browser: the finance expert opens the collections report from the menu, sees the chart
drawn from the rows, filters by one payment channel, and the table, the totals and the chart follow."""

from datetime import timedelta

import pytest

from core.db import db
from core.jalali import format_jalali_date
from core.text import to_persian_digits
from tests.test_reports import build_world

pytestmark = pytest.mark.browser

DATASETS = "() => Chart.getChart(document.getElementById('report-chart')).data.datasets.map(d => [d.label, d.data])"


@pytest.fixture
def world(app, live_server):
    with app.app_context():
        built = build_world(db.session)
        db.session.commit()
        db.session.remove()
    return built


def test_collections_report_with_a_filter_and_its_chart(page, live_server, world):
    base = live_server
    page.goto(f"{base}/login")
    page.get_by_label("نام کاربری").fill("finance")
    page.get_by_label("گذرواژه").fill("madam1403")
    page.get_by_role("button", name="ورود", exact=True).click()
    page.wait_for_url(f"{base}/")
    page.get_by_role("link", name="گزارش‌ها").click()
    page.get_by_role("link", name="وصولی به تفکیک روش پرداخت و روز").click()

    # The default period is this Jalali month; the world's payments span the last 30 days.
    page.get_by_label("از", exact=True).fill(format_jalali_date(world.today - timedelta(days=30)))
    page.get_by_label("تا", exact=True).fill(format_jalali_date(world.today))
    page.keyboard.press("Escape")
    page.get_by_role("button", name="نمایش", exact=True).click()
    page.locator("canvas[data-drawn]").wait_for()
    assert sorted(page.evaluate(DATASETS)) == [["اینترنت", [0, 200_000]], ["بانک", [500_000, 0]],
                                                ["کارتخوان", [1_000_000, 0]]]
    table = page.get_by_test_id("report-table")
    assert table.locator("tbody tr").count() == 3
    assert "۱٬۷۰۰٬۰۰۰" in page.get_by_test_id("report-totals").inner_text()

    page.get_by_label("روش پرداخت", exact=True).select_option(label="کارتخوان")
    page.get_by_role("button", name="نمایش", exact=True).click()
    page.wait_for_url("**channel=pos**")
    page.locator("canvas[data-drawn]").wait_for()
    assert page.evaluate(DATASETS) == [["کارتخوان", [1_000_000]]]
    rows = table.locator("tbody tr")
    assert rows.count() == 1
    assert to_persian_digits("1") in rows.first.inner_text() and "کارتخوان" in rows.first.inner_text()
    assert "۱٬۰۰۰٬۰۰۰" in page.get_by_test_id("report-totals").inner_text()


def test_debtors_totals_row_takes_the_debt_by_age_from_the_chart(page, live_server, world, monkeypatch):
    """Past the debtors the page sums by age itself, the totals row's buckets arrive with the chart, in Persian."""
    from reports import debtors

    monkeypatch.setattr(debtors, "PAGE_BUCKET_TOTALS_UP_TO", 2)
    base = live_server
    page.goto(f"{base}/login")
    page.get_by_label("نام کاربری").fill("admin")
    page.get_by_label("گذرواژه").fill("madam1403")
    page.get_by_role("button", name="ورود", exact=True).click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/reports/debtors")
    page.locator("canvas[data-drawn]").wait_for()
    totals = page.get_by_test_id("report-totals")
    page.locator("[data-total-filled]").nth(3).wait_for()
    assert totals.locator("[data-total-pending]").count() == 0
    cells = {key: totals.locator(f"td[data-column='{key}']").inner_text().strip()
             for key in ("balance", "age_0_30", "age_31_60", "age_61_90", "age_over_90")}
    assert cells == {"balance": "۹٬۸۰۰٬۰۰۰ ریال", "age_0_30": "۱٬۳۰۰٬۰۰۰ ریال", "age_31_60": "۱٬۵۰۰٬۰۰۰ ریال",
                     "age_61_90": "۳٬۰۰۰٬۰۰۰ ریال", "age_over_90": "۴٬۰۰۰٬۰۰۰ ریال"}
    assert totals.get_by_test_id("report-totals-count").inner_text() == "جمع ۳ ردیف"
