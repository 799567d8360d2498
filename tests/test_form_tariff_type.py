"""The forms' tariff type select: offered from the tariff registry, checked against it on submission."""

from engine.formschema import validate_submission
from tests.helpers import login
from web.formjs import render_form
from web.lookups import form_lookups

ANY_UTILITY = {"components": [{"type": "madam:tariffType", "key": "tariff", "label": "نوع تعرفه",
                               "validate": {"required": True}}]}
WATER = {"components": [{"type": "madam:tariffType", "key": "tariff", "label": "نوع تعرفه",
                         "properties": {"utility": "water"}}]}


def test_the_select_offers_the_registrys_tariff_types_without_javascript(app, client, session, demo):
    login(client, "clerk")
    with app.test_request_context("/"):
        html = str(render_form(ANY_UTILITY, {}))
        water = str(render_form(WATER, {"tariff": "agricultural"}))
    assert "<select" in html and 'value="residential"' in html and "خانگی" in html
    assert html.count('value="residential"') == 1  # one option per word, though every utility has it
    assert "۵ — کشاورزی و دامداری" in water or "5 — کشاورزی و دامداری" in water
    assert 'value="agricultural" selected' in water


def test_a_submission_must_name_a_tariff_type_of_the_registry(app, client, session, demo):
    login(client, "clerk")
    with app.test_request_context("/"):
        from flask_login import login_user

        login_user(demo["clerk"])
        data, errors = validate_submission(ANY_UTILITY, {"tariff": "1"}, lookups=form_lookups())
        assert (data, errors) == ({"tariff": "residential"}, {})
        data, errors = validate_submission(ANY_UTILITY, {"tariff": "palace"}, lookups=form_lookups())
        assert "tariff" in errors and data.get("tariff") is None


def test_the_earlier_steps_show_the_tariff_types_name(app, session, demo):
    with app.test_request_context("/"):
        html = str(render_form(WATER, {"tariff": "agricultural"}, readonly=True))
    assert "کشاورزی و دامداری" in html
