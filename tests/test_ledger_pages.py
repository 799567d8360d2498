"""The contract's ledger tab: Persian, Jalali, by permission; bad input is 422 and saves nothing."""

from sqlalchemy import func, select

from ledger.models import GracePeriod, InstallmentPlan, Journal
from tests.helpers import csrf_token_from, login
from tests.test_ledger import issue_bill, open_account, pay

URL = "/ledger/contracts/8001001"


def _post(client, path, data):
    token = csrf_token_from(client.get(URL).get_data(as_text=True))
    prefix = path.rsplit("/", 1)[-1].rstrip("s")
    return client.post(f"{URL}/{path}", data={f"{prefix}-{k}": v for k, v in {**data, "csrf_token": token}.items()})


def test_the_ledger_tab_shows_balance_statement_and_aging_in_persian(client, demo, session):
    open_account(session, demo["finance"])
    issue_bill(session, demo["finance"], 8001001, 450_000)
    pay(session, demo["finance"], 8001001, 150_000, "P-1")
    login(client, "clerk")
    page = client.get(URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "۳۰۰٬۰۰۰ ریال" in html and "بدهکار" in html and "۱۴۰۳/۱۲/۱۱" in html
    assert "ثبت پرداخت" not in html  # the clerk may look, not post


def test_the_tab_is_404_without_an_account_and_403_outside_the_users_region(client, demo, session):
    open_account(session, demo["finance"], 8001001, region="shiraz-2")
    login(client, "clerk")  # the clerk works in shiraz-1
    assert client.get("/ledger/contracts/4242").status_code == 404
    assert client.get(URL).status_code == 403


def test_posting_a_payment_from_the_tab(client, demo, session):
    open_account(session, demo["finance"])
    login(client, "finance")
    response = _post(client, "payments", {"channel": "pos", "amount": "۲۵۰٬۰۰۰", "paid_on": "۱۴۰۳/۱۲/۱۰",
                                          "reference": "POS-77"})
    assert response.status_code == 302
    html = client.get(URL).get_data(as_text=True)
    assert "پرداخت ثبت شد." in html and "۲۵۰٬۰۰۰ ریال" in html and "بستانکار" in html


def test_bad_input_is_422_with_persian_errors_beside_the_fields_and_nothing_saved(client, demo, session):
    open_account(session, demo["finance"])
    login(client, "finance")
    before = session.scalar(select(func.count()).select_from(Journal))
    response = _post(client, "payments", {"channel": "bank", "amount": "abc", "paid_on": "1403/13/40",
                                          "reference": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "تاریخ را به شمسی وارد کنید" in html and "مبلغ را به ریال" in html and "پر کردن این خانه لازم است." in html
    response = _post(client, "adjustments", {"kind": "debit", "amount": "100000", "on": "1403/12/10", "reason": ""})
    assert response.status_code == 422
    response = _post(client, "adjustments", {"kind": "refund", "amount": "100000", "on": "1403/12/10",
                                             "reason": "بازپرداخت"})
    assert response.status_code == 422 and "بستانکاری" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Journal)) == before


def test_granting_a_deadline_and_an_installment_plan_from_the_tab(client, demo, session):
    open_account(session, demo["finance"])
    issue_bill(session, demo["finance"], 8001001, 9_000_000)
    login(client, "finance")
    assert _post(client, "grace", {"due_on": "1410/01/15", "reason": "درخواست مشترک"}).status_code == 302
    assert _post(client, "plans", {"count": "3", "down_payment_percent": "10", "first_due_on": "1410/02/01",
                                   "reason": "تقسیط"}).status_code == 302
    assert session.scalar(select(func.count()).select_from(GracePeriod)) == 1
    assert session.scalar(select(func.count()).select_from(InstallmentPlan)) == 1
    html = client.get(URL).get_data(as_text=True)
    assert "پیش‌پرداخت" in html and "۹۰۰٬۰۰۰ ریال" in html
