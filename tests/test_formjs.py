"""User-task forms rendered on the server: every component labelled, right-to-left friendly and usable
without JavaScript; errors in Persian beside their fields; what was typed kept; earlier data read-only."""

import json
import re
from pathlib import Path

import pytest
from flask import render_template_string
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from engine import formschema as fs
from madam.settings import REPO_ROOT
from web import formjs

ALL = json.loads((Path(__file__).parent / "data" / "forms" / "all_components.json").read_text(encoding="utf-8"))
URLS = {"madam:subscriber": "/registry/subscribers/search", "madam:meter": "/registry/meters/search"}


@pytest.fixture
def page(app):
    """Render inside a Persian request (the platform's default language)."""
    with app.test_request_context("/"):
        yield


def render(schema=ALL, values=None, errors=None, **kwargs) -> str:
    out = formjs.render_form(schema, values, errors, **kwargs)
    assert isinstance(out, Markup)
    return str(out)


def tag(html: str, name: str, element: str = "input") -> str:
    """The opening tag of the element named `name`."""
    match = re.search(rf'<{element}\b[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    assert match, f"no <{element} name={name!r}>"
    return match[0]


def labelled(html: str, element_id: str) -> bool:
    return f'for="{element_id}"' in html and f'id="{element_id}"' in html


def one(component: dict) -> dict:
    return {"components": [component]}


# --- Every component -------------------------------------------------------------------------------------------


def test_every_input_has_a_label_and_its_name(page):
    html = render(lookup_urls=URLS)
    for component in fs.fields(ALL):
        key, kind = component["key"], component["type"]
        if kind in ("checklist", "radio"):
            assert f'<legend class="form-label fs-6">{component["label"]}' in html
            for i, _option in enumerate(component["values"]):
                assert labelled(html, f"f-{key}-{i}")
                assert f'name="{key}"' in html
        elif kind == "madam:mapPoint":
            assert labelled(html, f"f-{key}-lat") and labelled(html, f"f-{key}-lng")
            assert f'name="{key}.lat"' in html and f'name="{key}.lng"' in html
        else:
            assert labelled(html, f"f-{key}"), key
            # a tariff type select offers the registry's tariff types
            element = "select" if kind in ("select", "madam:tariffType") else "textarea" if kind == "textarea" \
                else "input"
            tag(html, key, element)
            label = component.get("label") or component.get("dateLabel")
            assert re.search(rf'<label [^>]*for="f-{key}">{re.escape(label)}', html), key


def test_required_fields_are_marked_for_screen_readers_and_eyes(page):
    html = render()
    for key in ("full_name", "national_id", "capacity", "owner_present", "visit_date", "subscriber_id", "fee"):
        assert 'aria-required="true"' in tag(html, key), key
    assert 'aria-required="true"' in tag(html, "address", "textarea")
    assert 'aria-required="true"' not in tag(html, "legal_id")
    assert 'aria-required="true"' not in tag(html, "usage", "select")
    assert re.search(r'<fieldset [^>]*id="f-phase" role="radiogroup"[^>]*aria-required="true"', html)
    assert "(الزامی)" in html  # the checklist's legend says it in words
    assert html.count('<span class="text-danger ms-1" aria-hidden="true">*</span>') == 10


def test_inputs_are_right_to_left_friendly_and_need_no_javascript(page):
    html = render(lookup_urls=URLS)
    assert 'dir="auto"' in tag(html, "full_name")
    for key in ("national_id", "capacity", "visit_date", "fee"):
        assert 'dir="ltr"' in tag(html, key), key
    assert 'inputmode="numeric"' in tag(html, "national_id") and 'inputmode="tel"' in tag(html, "mobile")
    assert 'inputmode="decimal"' in tag(html, "ratio")
    date = tag(html, "visit_date")
    assert 'type="text"' in date and 'placeholder="۱۴۰۳/۱۲/۳۰"' in date and "data-jdp" in date
    assert "تاریخ شمسی، مانند ۱۴۰۳/۱۲/۳۰." in html
    fee = tag(html, "fee")
    assert 'type="text"' in fee and 'inputmode="numeric"' in fee and "ریال" in html
    # nothing the Content-Security-Policy would block: no inline script, no event handler attribute
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "<form" not in html and "csrf_token" not in html and "<button" not in html


def test_the_display_components(page):
    html = render()
    assert '<p>درخواست انشعاب</p>' in html and '<p>فیلدهای ستاره‌دار را پر کنید.</p>' in html
    assert "<hr>" in html
    assert '<legend class="fs-6 fw-bold float-none w-auto px-2 mb-0">پرونده در سامانه</legend>' in html
    group = html[html.index("پرونده در سامانه"):html.index("</fieldset>", html.index("پرونده در سامانه"))]
    assert 'name="subscriber_id"' in group and 'name="tariff_type"' in group
    assert 'id="f-address-desc">نشانی کامل محل انشعاب</div>' in html
    assert 'aria-describedby="f-address-desc"' in tag(html, "address", "textarea")


def test_choices_render_their_options(page):
    html = render()
    assert 'value="three"' in tag(html, "phase") or 'value="single"' in tag(html, "phase")
    assert '<option value="domestic">خانگی</option>' in html and '<option value="">انتخاب کنید…</option>' in html
    assert 'type="checkbox"' in tag(html, "owner_present") and 'value="true"' in tag(html, "owner_present")
    assert html.count('name="documents_seen"') == 3


def test_lookups_search_as_you_type_when_the_page_gives_a_search_address(page):
    html = render(lookup_urls=URLS)
    subscriber = tag(html, "subscriber_id")
    assert 'data-lookup-url="/registry/subscribers/search"' in subscriber
    assert 'list="f-subscriber_id-options"' in subscriber and '<datalist id="f-subscriber_id-options">' in html
    assert 'data-lookup-url="/registry/meters/search"' in tag(html, "meter_id")
    contract = tag(html, "contract_id")  # no search yet: the number is typed
    assert "data-lookup-url" not in contract and "list=" not in contract and 'type="text"' in contract
    assert "شماره را وارد کنید." in html


def test_platform_inputs(page):
    html = render()
    assert 'type="file"' in tag(html, "deed_scan")
    assert 'inputmode="decimal"' in tag(html, "location.lat") and 'dir="ltr"' in tag(html, "location.lng")
    assert "عرض جغرافیایی" in html and "طول جغرافیایی" in html
    listed = render(one({"type": "madam:tariffType", "key": "t", "label": "تعرفه",
                         "values": [{"label": "خانگی", "value": "R1"}]}))
    assert '<select class="form-select" id="f-t" name="t">' in listed and '<option value="R1">خانگی</option>' in listed


def test_datetime_subtypes(page):
    html = render({"components": [
        {"type": "datetime", "key": "at", "subtype": "datetime", "dateLabel": "روز", "timeLabel": "ساعت شروع"},
        {"type": "datetime", "key": "t", "subtype": "time", "timeLabel": "ساعت"},
    ]})
    assert labelled(html, "f-at") and labelled(html, "f-at-time") and 'name="at.time"' in html
    assert "ساعت شروع" in html and 'placeholder="۱۴:۳۰"' in tag(html, "t")
    assert "data-jdp" not in tag(html, "t")


def test_labels_options_descriptions_and_values_are_escaped(page):
    evil = "<script>alert(1)</script>"
    schema = {"components": [
        {"type": "textfield", "key": "a", "label": evil, "description": evil},
        {"type": "select", "key": "b", "label": "b", "values": [{"label": evil, "value": '"><script>'}]},
        {"type": "text", "text": evil},
        {"type": "group", "label": evil, "components": []},
    ]}
    html = render(schema, MultiDict({"a": '"><script>alert(2)</script>'}))
    assert "<script>" not in html.replace('<script src=', "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in html
    readonly = render(schema, {"a": evil}, readonly=True)
    assert "<script>" not in readonly and "&lt;script&gt;alert(1)&lt;/script&gt;" in readonly


# --- Errors and what was typed --------------------------------------------------------------------------------


def test_errors_are_persian_beside_their_field_and_everything_typed_is_kept(page):
    typed = MultiDict([("full_name", "علی رضایی"), ("national_id", "۰۰۱۲۳۴۵۶۷۸"), ("address", "تهران\nونک"),
                       ("capacity", "۵۰۰"), ("documents_seen", "deed"), ("documents_seen", "id_card"),
                       ("phase", "three"), ("usage", "commercial"), ("visit_date", "1404/12/30"),
                       ("subscriber_id", "۱۲"), ("location.lat", "10"), ("location.lng", "51"),
                       ("fee", "۱٬۲۵۰٬۰۰۰"), ("owner_present", "true")])
    _data, errors = fs.validate_submission(ALL, typed)
    assert set(errors) == {"national_id", "capacity", "visit_date", "location"}
    html = render(ALL, typed, errors)
    national = tag(html, "national_id")
    assert 'value="۰۰۱۲۳۴۵۶۷۸"' in national and "is-invalid" in national
    assert 'aria-invalid="true"' in national and 'aria-describedby="f-national_id-error"' in national
    assert '<div class="invalid-feedback d-block" id="f-national_id-error">«کد ملی» کد ملی معتبری نیست.</div>' in html
    assert "«ظرفیت (آمپر)» باید حداکثر ۲۰۰ باشد." in html
    assert "«تاریخ بازدید»: تاریخ را به شمسی وارد کنید، مانند ۱۴۰۳/۱۲/۳۰." in html
    assert "«محل انشعاب»: این نقطه بیرون از ایران است." in html
    assert 'aria-describedby="f-visit_date-hint f-visit_date-error"' in tag(html, "visit_date")
    # what was typed, valid or not, is back in its field
    assert 'value="علی رضایی"' in tag(html, "full_name") and "تهران\nونک</textarea>" in html
    assert 'value="1404/12/30"' in tag(html, "visit_date") and 'value="۱۲"' in tag(html, "subscriber_id")
    assert 'value="10"' in tag(html, "location.lat") and 'value="۱٬۲۵۰٬۰۰۰"' in tag(html, "fee")
    assert "checked" in tag(html, "owner_present") and 'value="commercial" selected' in html
    checked = re.findall(r'name="documents_seen" value="(\w+)" checked', html)
    assert checked == ["deed", "id_card"]
    assert re.search(r'name="phase" value="three" checked', html)
    assert "is-invalid" not in tag(html, "full_name")
    as_lists = render(ALL, typed.to_dict(flat=False), errors)  # a dict of lists keeps every box too
    assert re.findall(r'name="documents_seen" value="(\w+)" checked', as_lists) == ["deed", "id_card"]


def test_messages_follow_the_language_of_the_user(app):
    schema = one({"type": "number", "key": "n", "label": "Amps", "validate": {"required": True, "min": 1000}})
    _data, errors = fs.validate_submission(schema, {"n": "5"})
    with app.test_request_context("/"):
        assert str(errors["n"][0]) == "«Amps» باید دست‌کم ۱٬۰۰۰ باشد."
    with app.test_request_context("/", headers={"Cookie": "madam_locale=en"}):
        assert str(errors["n"][0]) == "Amps must be at least 1,000."


def test_defaults_fill_a_new_form_and_an_unchecked_box_stays_unchecked_after_a_failed_post(page):
    schema = {"components": [{"type": "checkbox", "key": "ok", "label": "ok", "defaultValue": True},
                             {"type": "textfield", "key": "name", "label": "name", "defaultValue": "بی‌نام"}]}
    assert "checked" in tag(render(schema), "ok")
    earlier_steps = {"capacity": 32, "approved": False}  # the task's data, not yet this form's
    html = render(schema, earlier_steps)
    assert "checked" in tag(html, "ok") and 'value="بی‌نام"' in tag(html, "name")
    html = render(schema, MultiDict({"name": "x"}))
    assert "checked" not in tag(html, "ok") and 'value="x"' in tag(html, "name")
    html = render(schema, {"name": ["x"]})  # a draft, as to_dict(flat=False) keeps it
    assert "checked" not in tag(html, "ok") and 'value="x"' in tag(html, "name")


def test_stored_data_fills_the_inputs_as_an_expert_types_it(page):
    values = {"visit_date": "2025-03-20", "fee": 1250000, "owner_present": True, "documents_seen": ["completion"],
              "location": {"lat": 35.7, "lng": 51.4}, "capacity": 32, "deed_scan": 8}
    html = render(ALL, values)
    assert 'value="۱۴۰۳/۱۲/۳۰"' in tag(html, "visit_date") and 'value="۱٬۲۵۰٬۰۰۰"' in tag(html, "fee")
    assert "checked" in tag(html, "owner_present") and 'value="completion" checked' in html
    assert 'value="35.7"' in tag(html, "location.lat") and 'value="32"' in tag(html, "capacity")
    assert '<input type="hidden" name="deed_scan" value="8">' in html and "سند شمارهٔ ۸ پیوست است" in html
    both = render(one({"type": "datetime", "key": "at", "subtype": "datetime"}), {"at": "2025-03-20T14:30"})
    assert 'value="۱۴۰۳/۱۲/۳۰"' in tag(both, "at") and 'value="14:30"' in tag(both, "at.time")


# --- Read-only ---------------------------------------------------------------------------------------------------


def test_earlier_steps_data_is_shown_read_only(page):
    data = {"full_name": "علی رضایی", "national_id": "0012345679", "address": "تهران\nونک", "capacity": 32,
            "owner_present": True, "documents_seen": ["deed", "id_card"], "phase": "three", "usage": None,
            "visit_date": "2025-03-20", "subscriber_id": 12, "fee": 1250000, "location": {"lat": 35.7, "lng": 51.4}}
    html = render(ALL, data, readonly=True)
    assert "<input" not in html and "<select" not in html and "<textarea" not in html and "<script" not in html
    assert '<dt class="col-sm-4">نام و نام خانوادگی</dt>' in html
    items = dict(re.findall(r'data-key="(\w+)">(.*?)</dd>', html, re.S))
    assert items["full_name"] == "علی رضایی" and items["address"] == "تهران<br>ونک"
    assert items["capacity"] == "۳۲" and items["owner_present"] == "بله" and items["phase"] == "سه‌فاز"
    assert items["documents_seen"] == "سند مالکیت، کارت ملی" and items["visit_date"] == "۱۴۰۳/۱۲/۳۰"
    assert items["fee"] == "۱٬۲۵۰٬۰۰۰ ریال" and items["subscriber_id"] == "۱۲"
    assert items["location"] == "۳۵.۷، ۵۱.۴"
    assert items["usage"] == '<span class="text-body-secondary">—</span>'
    assert '<h3 class="h6 fw-bold mt-2">پرونده در سامانه</h3>' in html
    assert "درخواست انشعاب" not in html  # display text belongs to the form, not to the data


def test_read_only_renders_what_was_typed_too(page):
    html = render(ALL, MultiDict([("visit_date", "۱۴۰۳/۱۲/۳۰"), ("owner_present", "true"),
                                  ("location.lat", "35.7"), ("location.lng", "51.4")]), readonly=True)
    items = dict(re.findall(r'data-key="(\w+)">(.*?)</dd>', html, re.S))
    assert items["visit_date"] == "۱۴۰۳/۱۲/۳۰" and items["owner_present"] == "بله"
    assert items["location"] == "۳۵.۷، ۵۱.۴"


# --- Assets and wiring ---------------------------------------------------------------------------------------


def test_scripts_are_files_added_once_per_page(page):
    first, second = render(), render()
    for url in ("/static/js/forms.js", "/static/vendor/jalalidatepicker/jalalidatepicker.min.js",
                "/static/vendor/jalalidatepicker/jalalidatepicker.min.css"):
        assert url in first and url not in second
    assert "<script" not in render(one({"type": "textfield", "key": "a"}))


def test_a_page_may_place_the_assets_in_its_head_first(app):
    with app.test_request_context("/"):
        assert "forms.js" in str(formjs.form_assets())
        assert "forms.js" not in render()


def test_init_offers_render_form_to_templates(app):
    formjs.init(app)
    with app.test_request_context("/"):
        html = render_template_string("{{ render_form(schema, values) }}", schema=one(
            {"type": "textfield", "key": "a", "label": "نام"}), values={"a": "x"})
    assert '<label class="form-label" for="f-a">نام</label>' in html and 'value="x"' in html


def test_the_front_end_files_are_in_place():
    script = (REPO_ROOT / "web/static/js/forms.js").read_text(encoding="utf-8")
    assert "data-lookup-url" in script and "jalaliDatepicker" in script
    package = json.loads((REPO_ROOT / "package.json").read_text(encoding="utf-8"))
    assert "@majidh1/jalalidatepicker" in package["dependencies"]
    assert "node_modules/@majidh1/jalalidatepicker/dist/jalalidatepicker.min.js" in (
        REPO_ROOT / "Makefile").read_text(encoding="utf-8")
