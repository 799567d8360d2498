"""The UI shell: Jinja filters, both languages, the catalogue, error pages, Jalali date inputs."""

from datetime import UTC, date, datetime

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from madam.app import create_app
from madam.settings import REPO_ROOT
from tests.conftest import TEST_DB_URL
from tests.helpers import csrf_token_from, login
from web.fields import JalaliDateField


def test_filters_in_persian(app):
    with app.test_request_context("/"):
        out = render_template_string(
            "{{ d|jalali_date }}|{{ t|jalali_datetime }}|{{ 12345678|rials }}|{{ 1403|digits }}|{{ d|jalali_long }}",
            d=date(2025, 3, 20), t=datetime(2025, 3, 20, 8, 0, tzinfo=UTC))
    assert out == "۱۴۰۳/۱۲/۳۰|۱۴۰۳/۱۲/۳۰ ۱۱:۳۰|۱۲٬۳۴۵٬۶۷۸ ریال|۱۴۰۳|۳۰ اسفند ۱۴۰۳"


def test_filters_in_english_keep_jalali_dates_with_latin_digits(app):
    with app.test_request_context("/", headers={"Cookie": "madam_locale=en"}):
        out = render_template_string("{{ d|jalali_date }}|{{ 12345678|rials }}", d=date(2025, 3, 20))
    assert out == "1403/12/30|12,345,678 IRR"


def test_jalali_date_field_accepts_persian_digits_and_explains_mistakes(app):
    from flask_wtf import FlaskForm

    class DateForm(FlaskForm):
        class Meta:
            csrf = False

        day = JalaliDateField("day")

    with app.test_request_context("/"):
        good = DateForm(MultiDict({"day": "۱۴۰۳/۱۲/۳۰"}))
        assert good.validate() and good.day.data == date(2025, 3, 20)
        bad = DateForm(MultiDict({"day": "1404/12/30"}))
        assert not bad.validate()
        assert bad.day.errors == ["تاریخ را به شمسی وارد کنید، مانند ۱۴۰۳/۱۲/۳۰."]
        assert 'value="1404/12/30"' in bad.day()  # what was typed is kept


def test_every_message_has_a_persian_translation():
    catalogues = sorted((REPO_ROOT / "madam/translations/fa/LC_MESSAGES").glob("*.po"))
    assert catalogues
    for path in catalogues:
        with open(path, "rb") as po:
            catalog = read_po(po, locale="fa")
        untranslated = [m.id for m in catalog if m.id and not m.string]
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert (path.name, untranslated, fuzzy) == (path.name, [], [])


def test_the_language_switch_is_remembered_for_the_user(client, demo, session):
    login(client, "clerk")
    page = client.get("/").get_data(as_text=True)
    assert 'lang="fa" dir="rtl"' in page and "پیشخوان" in page
    response = client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    english = client.get("/").get_data(as_text=True)
    assert 'lang="en" dir="ltr"' in english and "Dashboard" in english and "bootstrap.min.css" in english
    session.refresh(demo["clerk"])
    assert demo["clerk"].locale == "en"


def test_the_login_page_is_persian_and_right_to_left_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="fa" dir="rtl"' in page
    assert "bootstrap.rtl.min.css" in page and "Vazirmatn" in page
    assert "ورود به مدام" in page


@pytest.fixture
def failing_app(tmp_path):
    app = create_app({"TESTING": False, "PROPAGATE_EXCEPTIONS": False},
                     env={"MADAM_DATA_DIR": str(tmp_path), "MADAM_DATABASE_URL": TEST_DB_URL})

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    boom.required_permission = "authenticated"
    return app


def test_a_server_error_gets_a_persian_page(failing_app):
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "خطایی در سامانه رخ داد" in body and "RuntimeError" not in body and "Traceback" not in body


def test_pages_carry_security_headers_and_signed_in_pages_are_not_cached(client, demo):
    anonymous = client.get("/login")
    assert "frame-ancestors 'none'" in anonymous.headers["Content-Security-Policy"]
    assert "script-src 'self'" in anonymous.headers["Content-Security-Policy"]
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    login(client, "clerk")
    assert client.get("/").headers["Cache-Control"] == "no-store"
