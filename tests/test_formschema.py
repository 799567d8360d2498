"""User-task form schemas: supported components, schema problems found at deploy, and submissions validated
on the server for every component (messages are English msgids here, outside a request)."""

import json
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from engine import formschema as fs
from engine.validation import validate_bpmn

DATA = Path(__file__).parent / "data"
ALL = json.loads((DATA / "forms" / "all_components.json").read_text(encoding="utf-8"))
NATIONAL_ID = "0012345679"
LEGAL_ID = "10101234565"
GOOD = {  # a submission the all-components form accepts
    "full_name": "علي رضايي", "national_id": "۰۰۱۲۳۴۵۶۷۹", "address": "تهران، خیابان ولیعصر",
    "capacity": "۳۲", "owner_present": "true", "documents_seen": ["deed"], "phase": "three",
    "visit_date": "۱۴۰۳/۱۲/۳۰", "subscriber_id": "12", "fee": "۱٬۲۵۰٬۰۰۰",
}


def form(**values) -> MultiDict:
    items = []
    for key, value in values.items():
        items += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    return MultiDict(items)


def one(component: dict, **values):
    """Validate a form holding one component; -> (value or None, [messages])."""
    data, errors = fs.validate_submission({"components": [component]}, form(**values))
    key = component["key"]
    return data.get(key), [str(message) for message in errors.get(key, [])]


def field(kind: str, key: str = "f", label: str = "Field", **extra) -> dict:
    return {"type": kind, "key": key, "label": label, **extra}


def rules(**validate) -> dict:
    return {"validate": validate}


OPTIONS = {"values": [{"label": "یک", "value": "one"}, {"label": "دو", "value": "two"}]}


# --- The schema ---------------------------------------------------------------------------------------------


def test_the_all_components_form_uses_every_supported_type_and_has_no_problem():
    used = {component["type"] for component in fs.walk(ALL["components"])}
    assert used == fs.SUPPORTED_TYPES
    assert fs.schema_problems(ALL) == []


def test_platform_types_are_named_and_documented():
    assert fs.PLATFORM_TYPES == {"madam:subscriber", "madam:contract", "madam:meter", "madam:tariffType",
                                 "madam:document", "madam:mapPoint", "madam:rial"}
    for name in fs.PLATFORM_TYPES:
        assert name in fs.__doc__


def test_fields_flattens_groups_in_order_and_leaves_out_display_components():
    keys = [component["key"] for component in fs.fields(ALL)]
    assert keys[:3] == ["full_name", "national_id", "legal_id"]
    assert keys.index("visit_date") < keys.index("subscriber_id") < keys.index("tariff_type") < keys.index("deed_scan")
    assert "intro" not in keys and len(keys) == len(set(keys)) == 21


def test_empty_schemas_have_no_problems():
    assert fs.schema_problems({}) == [] and fs.schema_problems({"components": []}) == []
    assert fs.fields({}) == []


@pytest.mark.parametrize("component, expected", [
    ({"type": "dynamiclist", "key": "rows"}, "the component 'rows' has the type 'dynamiclist', which Madam does"),
    ({"type": "html", "id": "Field_1"}, "the component with id 'Field_1' has the type 'html'"),
    ({"type": "iframe", "id": "x", "url": "https://example.com"}, "'iframe', which Madam does not support"),
    ({"label": "No type"}, "has no type"),
    ({"type": "textfield", "label": "Name"}, "the textfield labelled 'Name' has no key"),
    ({"type": "textfield", "key": "a.b"}, "the key 'a.b' of the textfield is not a plain name"),
    ({"type": "number", "key": "class"}, "the key 'class' of the number is reserved"),
    ({"type": "textfield", "key": "csrf_token"}, "is reserved"),
    ({"type": "textfield", "key": "x", "validate": {"pattern": "(["}}, "the pattern of the textfield 'x' does not"),
    ({"type": "number", "key": "x", "validate": {"min": "one"}}, "'min' of the number 'x' is 'one', not a number"),
    ({"type": "number", "key": "x", "validate": {"min": 5, "max": 1}}, "'min' of the number 'x' is greater than"),
    ({"type": "textfield", "key": "x", "validate": {"maxLength": -1}}, "'maxLength' of the textfield 'x' is -1"),
    ({"type": "textfield", "key": "x", "validate": {"minLength": 5, "maxLength": 2}}, "'minLength' of"),
    ({"type": "textfield", "key": "x", "validate": {"required": "yes"}}, "'required' of the textfield 'x' is 'yes'"),
    ({"type": "textfield", "key": "x", "validate": {"validationType": "iban"}}, "validationType 'iban'"),
    ({"type": "select", "key": "x"}, "the select 'x' has no options"),
    ({"type": "radio", "key": "x", "values": [{"label": "a", "value": "a"}, {"label": "b", "value": "a"}]},
     "has the option value 'a' twice"),
    ({"type": "checklist", "key": "x", "valuesKey": "choices"}, "takes its options from the process data"),
    ({"type": "datetime", "key": "x", "subtype": "week"}, "the subtype 'week'"),
    ({"type": "number", "key": "x", "decimalDigits": 1.5}, "decimalDigits 1.5"),
    ({"type": "textfield", "key": "x", "properties": {"madam": "iban"}}, "the property madam='iban'; known:"),
    ({"type": "number", "key": "x", "properties": {"madam": "nationalId"}}, "which only a textfield may have"),
    ({"type": "textfield", "key": "x", "conditional": {"hide": "=y"}}, "has a condition (conditional)"),
    ({"type": "textfield", "key": "x", "label": "=upper(name)"}, "the label of the textfield 'x' is an expression"),
    ({"type": "group", "label": "g", "path": "owner", "components": []}, "has a path ('owner')"),
])
def test_schema_problems_name_the_component_and_the_problem(component, expected):
    problems = fs.schema_problems({"components": [component]})
    assert any(expected in problem for problem in problems), problems


def test_duplicate_keys_are_found_inside_groups_too():
    schema = {"components": [field("textfield", "name"),
                             {"type": "group", "components": [field("textarea", "name")]}]}
    assert fs.schema_problems(schema) == ["the key 'name' is used by 2 components; each field needs its own key"]


def test_a_schema_that_is_not_a_form_is_one_problem():
    assert fs.schema_problems([]) == ["the form is not a JSON object; export it from the form editor again"]
    assert "is not a list" in fs.schema_problems({"components": {"a": 1}})[0]


def test_a_process_whose_form_uses_an_unsupported_component_is_rejected():
    content = (DATA / "validation" / "new_connection.bpmn").read_bytes()
    forms = {"connection_request": {"components": [{"type": "filepicker", "key": "scan"}]},
             "site_inspection": ALL}
    result = validate_bpmn(content, filename="new_connection.bpmn", forms=forms,
                           roles={"counter_clerk", "engineer", "meter_reader"}, operations={})
    messages = [e["message"] for e in result["errors"] if e["message"].startswith("form ")]
    assert not result["ok"]
    assert len(messages) == 1
    assert messages[0].startswith("form 'connection_request': the component 'scan' has the type 'filepicker'")


# --- Text ---------------------------------------------------------------------------------------------------


def test_textfield_normalises_persian_and_checks_its_rules():
    component = field("textfield", label="نام", **rules(required=True, minLength=3, maxLength=10))
    assert one(component, f="  علي   كريمي ") == ("علی کریمی", [])
    assert one(component, f="") == (None, ["نام is required."])
    assert one(component, f="   ") == (None, ["نام is required."])
    assert one(component, f="ab") == (None, ["نام must be at least 3 characters."])
    assert one(component, f="a" * 11) == (None, ["نام must be at most 10 characters."])
    assert one(field("textfield"), f="") == ("", [])


def test_text_without_max_length_is_still_bounded():
    assert one(field("textfield"), f="x" * 501)[1] == ["Field must be at most 500 characters."]
    assert one(field("textarea"), f="x" * 5000) == ("x" * 5000, [])


def test_pattern_is_searched_in_the_normalised_text_so_persian_digits_match():
    component = field("textfield", **rules(pattern=r"^\d{4}$"))
    assert one(component, f="۱۴۰۳") == ("1403", [])
    assert one(component, f="14031") == (None, ["Field is not in the expected format."])


def test_email_and_phone_validation_types():
    assert one(field("textfield", **rules(validationType="email")), f="a@b.ir") == ("a@b.ir", [])
    assert one(field("textfield", **rules(validationType="email")), f="a@b")[1] == [
        "Field is not a valid email address."]
    assert one(field("textfield", **rules(validationType="phone")), f="۰۲۱-۸۸۷۷۶۶۵۵") == ("021-88776655", [])
    assert one(field("textfield", **rules(validationType="phone")), f="12ab")[1] == [
        "Field is not a valid phone number."]


def test_textarea_keeps_its_lines():
    assert one(field("textarea"), f="سطر يك\r\n\r\nسطر  دو\n") == ("سطر یک\n\nسطر دو", [])


@pytest.mark.parametrize("validator, typed, stored", [
    ("nationalId", "۰۰۱۲۳۴۵۶۷۹", NATIONAL_ID),
    ("nationalId", "001-234567-9", NATIONAL_ID),
    ("legalId", LEGAL_ID, LEGAL_ID),
    ("mobile", "+98 912 123 4567", "09121234567"),
    ("mobile", "۰۹۱۲۱۲۳۴۵۶۷", "09121234567"),
    ("postalCode", "۱۲۳۴۵-۶۷۸۹۰", "1234567890"),
])
def test_platform_validators_store_identifiers_canonically(validator, typed, stored):
    assert one(field("textfield", properties={"madam": validator}), f=typed) == (stored, [])


@pytest.mark.parametrize("validator, typed, message", [
    ("nationalId", "0012345678", "Field is not a valid national ID."),
    ("nationalId", "1111111111", "Field is not a valid national ID."),
    ("nationalId", "00123a45679", "Field is not a valid national ID."),
    ("legalId", "10101234566", "Field is not a valid legal entity ID (11 digits)."),
    ("mobile", "0812345678", "Field: a mobile number is 11 digits starting with 09."),
    ("postalCode", "12345", "Field: a postal code is 10 digits."),
])
def test_platform_validators_refuse_wrong_identifiers(validator, typed, message):
    assert one(field("textfield", properties={"madam": validator}), f=typed) == (None, [message])


# --- Numbers ------------------------------------------------------------------------------------------------


def test_number_is_an_int_typed_in_any_digits_within_min_and_max():
    component = field("number", label="ظرفیت", **rules(required=True, min=1, max=200))
    assert one(component, f="۳۲") == (32, [])
    assert one(component, f="٣٢") == (32, [])
    assert one(component, f="1,000")[1] == ["ظرفیت must be at most 200."]
    assert one(component, f="0") == (None, ["ظرفیت must be at least 1."])
    assert one(component, f="abc") == (None, ["ظرفیت must be a number."])
    assert one(component, f="1e3") == (None, ["ظرفیت must be a number."])
    assert one(component, f="2.5") == (None, ["ظرفیت must be a whole number."])
    assert one(component, f="") == (None, ["ظرفیت is required."])
    assert one(field("number"), f="") == (None, [])


def test_number_with_decimal_digits_is_a_float():
    component = field("number", decimalDigits=2)
    assert one(component, f="۱٫۲۵") == (1.25, [])
    assert one(component, f="1.255") == (None, ["Field may have at most 2 decimal places."])


def test_rial_amounts_take_persian_digits_and_separators():
    component = field("madam:rial", label="مبلغ", **rules(required=True, max=10_000_000))
    assert one(component, f="۱٬۲۵۰٬۰۰۰") == (1250000, [])
    assert one(component, f="1,250,000 ریال") == (1250000, [])
    assert one(component, f="١٢٥٠٠٠٠") == (1250000, [])
    assert one(component, f="12.5") == (None, ["مبلغ: enter an amount in rials, in digits."])
    assert one(component, f="دوازده") == (None, ["مبلغ: enter an amount in rials, in digits."])
    assert one(component, f="-5") == (None, ["مبلغ must be at least 0."])
    assert one(component, f="20,000,000") == (None, ["مبلغ must be at most 10,000,000."])
    assert one(component, f="") == (None, ["مبلغ is required."])


# --- Choices ------------------------------------------------------------------------------------------------


def test_checkbox_is_a_bool_and_required_means_checked():
    assert one(field("checkbox"), f="true") == (True, [])
    assert one(field("checkbox"), f="on") == (True, [])
    assert one(field("checkbox")) == (False, [])
    assert one(field("checkbox", **rules(required=True))) == (None, ["Field must be checked."])
    assert one(field("checkbox"), f="maybe") == (None, ["Field: the value sent is not valid."])


def test_checklist_is_a_list_in_the_options_order_and_refuses_other_values():
    component = field("checklist", **OPTIONS, **rules(required=True))
    assert one(component, f=["two", "one", "two"]) == (["one", "two"], [])
    assert one(component, f=["one", "three"]) == (None, ["Field: choose only from the options."])
    assert one(component) == (None, ["Field is required."])
    assert one(field("checklist", **OPTIONS)) == ([], [])


@pytest.mark.parametrize("kind", ["radio", "select"])
def test_radio_and_select_accept_only_their_options(kind):
    component = field(kind, **OPTIONS, **rules(required=True))
    assert one(component, f="two") == ("two", [])
    assert one(component, f="three") == (None, ["Field: choose one of the options."])
    assert one(component, f="") == (None, ["Field is required."])
    assert one(field(kind, **OPTIONS), f="") == (None, [])


def test_numeric_option_values_are_compared_as_text():
    component = field("select", values=[{"label": "۱۰ آمپر", "value": 10}, {"label": "۲۵ آمپر", "value": 25}])
    assert one(component, f="25") == ("25", [])


# --- Dates --------------------------------------------------------------------------------------------------


def test_datetime_is_typed_as_jalali_and_stored_as_an_iso_gregorian_date():
    component = field("datetime", subtype="date", **rules(required=True))
    assert one(component, f="1403/12/30") == ("2025-03-20", [])  # 1403 is a leap year
    assert one(component, f="۱۴۰۳/۱۲/۳۰") == ("2025-03-20", [])
    assert one(component, f="١٤٠٣-١٢-٣٠") == ("2025-03-20", [])
    assert one(component, f="1404/12/30") == (None, ["Field: enter a Jalali date like 1403/12/30."])
    assert one(component, f="2025-03-20") == (None, ["Field: enter a Jalali date like 1403/12/30."])
    assert one(component, f="فردا") == (None, ["Field: enter a Jalali date like 1403/12/30."])
    assert one(component, f="") == (None, ["Field is required."])


def test_datetime_label_comes_from_date_label():
    component = {"type": "datetime", "key": "d", "dateLabel": "تاریخ بازدید", **rules(required=True)}
    assert one(component) == (None, ["تاریخ بازدید is required."])


def test_past_dates_can_be_refused():
    component = field("datetime", disallowPassedDates=True)
    assert one(component, f="1390/01/01") == (None, ["Field cannot be a past date."])
    assert one(component, f="1499/01/01") == ("2120-03-21", [])


def test_time_and_datetime_subtypes():
    assert one(field("datetime", subtype="time"), f="۹:۰۵") == ("09:05", [])
    assert one(field("datetime", subtype="time"), f="24:00") == (None, ["Field: enter a time like 14:30."])
    both = field("datetime", subtype="datetime", **rules(required=True))
    assert one(both, **{"f": "1403/12/30", "f.time": "14:30"}) == ("2025-03-20T14:30", [])
    assert one(both, f="1403/12/30") == (None, ["Field: enter both the date and the time."])
    assert one(both) == (None, ["Field is required."])


# --- Platform components --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, thing", [("madam:subscriber", "subscriber"), ("madam:contract", "contract"),
                                         ("madam:meter", "meter")])
def test_lookups_resolve_what_was_typed_to_an_id(kind, thing):
    component = field(kind, **rules(required=True))
    registry = {"0012345679": 7, "42": 42}
    lookups = {kind: registry.get}
    data, errors = fs.validate_submission({"components": [component]}, form(f="۰۰۱۲۳۴۵۶۷۹"), lookups=lookups)
    assert (data, errors) == ({"f": 7}, {})
    data, errors = fs.validate_submission({"components": [component]}, form(f="999"), lookups=lookups)
    assert [str(m) for m in errors["f"]] == [f"Field: no {thing} matches what was typed."]
    # without a lookup, the id itself
    assert one(component, f="۱۲") == (12, [])
    assert one(component, f="0") == (None, [f"Field: no {thing} matches what was typed."])
    assert one(component, f="علی") == (None, [f"Field: no {thing} matches what was typed."])
    assert one(component, f="") == (None, ["Field is required."])


def test_tariff_type_from_options_a_lookup_or_a_code():
    listed = field("madam:tariffType", values=[{"label": "خانگی", "value": "R1"}])
    assert one(listed, f="R1") == ("R1", [])
    assert one(listed, f="X9") == (None, ["Field: choose one of the options."])
    free = field("madam:tariffType")
    assert one(free, f="R1") == ("R1", [])
    assert one(free, f="R 1!") == (None, ["Field: no tariff type matches what was typed."])
    data, errors = fs.validate_submission({"components": [free]}, form(f="خانگی"),
                                          lookups={"madam:tariffType": {"خانگی": "R1"}.get})
    assert (data, errors) == ({"f": "R1"}, {})


def test_documents_are_stored_only_when_every_other_field_is_valid():
    stored = []

    def store(upload):
        if isinstance(upload, str):
            return int(upload) if upload == "5" else None
        stored.append(upload.filename)
        return 99

    schema = {"components": [field("madam:document", "scan", **rules(required=True)),
                             field("number", "n", **rules(required=True))]}
    upload = FileStorage(filename="deed.pdf", content_type="application/pdf")
    files = MultiDict({"scan": upload})
    data, errors = fs.validate_submission(schema, form(n="x"), files=files, lookups={"madam:document": store})
    assert list(errors) == ["n"] and stored == []
    data, errors = fs.validate_submission(schema, form(n="1"), files=files, lookups={"madam:document": store})
    assert (data, errors, stored) == ({"scan": 99, "n": 1}, {}, ["deed.pdf"])
    # the id of a document already attached, sent back by the page
    data, errors = fs.validate_submission(schema, form(scan="5", n="1"), lookups={"madam:document": store})
    assert (data, errors) == ({"scan": 5, "n": 1}, {})
    data, errors = fs.validate_submission(schema, form(n="1"), files=MultiDict(), lookups={"madam:document": store})
    assert [str(m) for m in errors["scan"]] == ["Field is required."]


def test_documents_without_a_lookup():
    component = field("madam:document")
    files = MultiDict({"f": FileStorage(filename="a.pdf")})
    _data, errors = fs.validate_submission({"components": [component]}, MultiDict(), files=files)
    assert [str(m) for m in errors["f"]] == ["Field: uploads cannot be received here."]
    assert one(component, f="12") == (12, [])
    assert one(component, f="x") == (None, ["Field: no document matches what was sent."])
    assert one(component) == (None, [])


def test_map_point_is_inside_iran():
    component = field("madam:mapPoint", label="محل", **rules(required=True))
    assert one(component, **{"f.lat": "۳۵٫۷", "f.lng": "51.4"}) == ({"lat": 35.7, "lng": 51.4}, [])
    assert one(component, **{"f.lat": "48.85", "f.lng": "2.35"}) == (None, ["محل: the point is outside Iran."])
    assert one(component, **{"f.lat": "35.7", "f.lng": "70"}) == (None, ["محل: the point is outside Iran."])
    assert one(component, **{"f.lat": "35.7"}) == (
        None, ["محل: enter the latitude and the longitude as numbers."])
    assert one(component, **{"f.lat": "north", "f.lng": "51"}) == (
        None, ["محل: enter the latitude and the longitude as numbers."])
    assert one(component) == (None, ["محل is required."])
    assert one(field("madam:mapPoint")) == (None, [])


# --- The whole form -------------------------------------------------------------------------------------------


def test_the_all_components_form_gives_typed_data():
    data, errors = fs.validate_submission(ALL, form(**GOOD))
    assert errors == {}
    assert data["full_name"] == "علی رضایی" and data["national_id"] == NATIONAL_ID
    assert data["capacity"] == 32 and data["owner_present"] is True and data["documents_seen"] == ["deed"]
    assert data["visit_date"] == "2025-03-20" and data["subscriber_id"] == 12 and data["fee"] == 1250000
    assert data["legal_id"] == "" and data["usage"] is None and data["location"] is None
    assert set(data) == {component["key"] for component in fs.fields(ALL)}
    json.dumps(data)  # the workflow stores it as JSON


def test_every_error_of_a_submission_is_reported_by_key():
    _data, errors = fs.validate_submission(ALL, MultiDict())
    assert set(errors) == {"full_name", "national_id", "address", "capacity", "owner_present", "documents_seen",
                           "phase", "visit_date", "subscriber_id", "fee"}


def test_disabled_and_readonly_fields_are_not_read_from_the_submission():
    schema = {"components": [field("textfield", "a", readonly=True, **rules(required=True)),
                             field("textfield", "b", disabled=True), field("textfield", "c")]}
    assert fs.validate_submission(schema, form(a="x", b="y", c="z")) == ({"c": "z"}, {})


def test_a_plain_dict_is_accepted_as_the_submission():
    data, errors = fs.validate_submission({"components": [field("checklist", **OPTIONS), field("number", "n")]},
                                          {"f": ["one"], "n": "3"})
    assert (data, errors) == ({"f": ["one"], "n": 3}, {})
