"""Deploy-time validation of BPMN diagrams: a verdict for any input, naming each element that will not run, in
the user's language (Persian unless the user chose English)."""

import datetime
from pathlib import Path

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import validation
from engine.validation import OperationSpec, parse_duration, validate_bpmn

DATA = Path(__file__).parent / "data" / "validation"
VALID = (DATA / "new_connection.bpmn").read_bytes()
ROLES = {"counter_clerk", "engineer", "meter_reader"}
FORMS = {"connection_request": {"components": []}, "site_inspection": {"components": []}}
OPERATIONS = {
    "test.compute_fee": OperationSpec("test.compute_fee", frozenset({"capacity"}), frozenset({"phase"})),
    "registry.create_subscriber": OperationSpec("registry.create_subscriber", frozenset({"national_id"})),
}


@pytest.fixture(autouse=True, scope="module")
def persian(app):
    """The verdict as the analyst reads it: inside the app, whose default language is Persian."""
    with app.app_context():
        yield


def verdict(source: str | bytes, **overrides) -> dict:
    content = (DATA / source).read_bytes() if isinstance(source, str) else source
    arguments = {"filename": source if isinstance(source, str) else "inline.bpmn", "forms": FORMS,
                 "roles": ROLES, "operations": OPERATIONS, **overrides}
    return validate_bpmn(content, **arguments)


def elements(result: dict) -> list[str]:
    return sorted(error["element"] for error in result["errors"])


def messages(result: dict, element: str) -> str:
    return " | ".join(error["message"] for error in result["errors"] if error["element"] == element)


def assert_shape(result: dict) -> None:
    assert set(result) == {"file", "ok", "errors", "processes"}
    assert result["ok"] is (not result["errors"])
    assert all(set(e) == {"element", "message"} and e["message"] for e in result["errors"])
    assert all(isinstance(e["element"], str) and isinstance(e["message"], str) for e in result["errors"])


# --- A diagram that will run --------------------------------------------------------------------------------


def test_the_valid_diagram_is_ok():
    result = verdict("new_connection.bpmn")
    assert result == {"file": "new_connection.bpmn", "ok": True, "errors": [], "processes": ["new_connection"]}


def test_the_same_diagram_against_a_smaller_catalogue():
    result = verdict("new_connection.bpmn", roles={"counter_clerk"}, forms={"connection_request": {}},
                     operations={})
    assert elements(result) == ["compute_fee", "inspect", "inspect"]
    assert "مسیر «engineer» وظیفهٔ «inspect» هیچ نقشی را نام نمی‌برد؛ نقش‌های شناخته: counter_clerk" in messages(
        result, "inspect")
    assert "فرم «site_inspection» وظیفهٔ «inspect» وجود ندارد" in messages(result, "inspect")
    assert "عملیات ناشناختهٔ «test.compute_fee» را فرا می‌خواند؛ عملیات‌های شناخته: هیچ" in messages(result,
                                                                                                  "compute_fee")


def test_an_english_speaker_reads_the_verdict_in_english():
    with force_locale("en"):
        result = verdict("new_connection.bpmn", roles={"counter_clerk"}, forms={"connection_request": {}},
                         operations={})
    assert "the lane 'engineer' of task 'inspect' names no role; known roles: counter_clerk" in messages(
        result, "inspect")
    assert "unknown operation 'test.compute_fee'; known operations: none" in messages(result, "compute_fee")


# --- One file, many problems ----------------------------------------------------------------------------------


def test_every_problem_of_a_broken_diagram_is_reported():
    result = verdict("many_problems.bpmn")
    assert not result["ok"]
    assert result["processes"] == ["meter_change"]
    assert elements(result) == sorted([
        "register", "register", "register",  # unknown role, missing form, bad SLA
        "review", "review",  # no formKey, import in its post-script
        "review_late",  # bare PT1H
        "compute_fee", "compute_fee", "compute_fee",  # missing, unknown, unterminated string
        "notify",  # unknown operation
        "sneaky",  # import os
        "route", "route", "route",  # __class__, __bases__, __subclasses__
        "wait_message",  # message without a name
        "wait_date",  # timeDate that is not a date
    ])  # fmt: skip
    register = messages(result, "register")
    assert "مسیر «janitor» وظیفهٔ «register» هیچ نقشی را نام نمی‌برد؛ نقش‌های شناخته: counter_clerk, engineer, " \
           "meter_reader" in register
    assert "فرم «no_such_form» وظیفهٔ «register» وجود ندارد" in register
    assert "مهلت (SLA) وظیفهٔ «register» نادرست است" in register and "'4 hours'" in register
    review = messages(result, "review")
    assert "وظیفهٔ کاربری «review» فرمی نام نمی‌برد" in review and "formKey" in review
    assert "پس‌اسکریپت «review» اجرا نمی‌شود" in review and "import" in review
    assert messages(result, "review_late") == 'عبارت زمان‌سنج «review_late» پایتون است: "PT1H" را با گیومه بنویسید'
    compute_fee = messages(result, "compute_fee")
    assert "پارامتر لازم «capacity» عملیات «test.compute_fee» را ندارد" in compute_fee
    assert "پارامتر «colour» را می‌دهد که «test.compute_fee» نمی‌پذیرد" in compute_fee
    assert "پارامتر «phase» در «compute_fee» اجرا نمی‌شود" in compute_fee and "syntax" in compute_fee
    assert "عملیات ناشناختهٔ «sms.send_everything»" in messages(result, "notify")
    assert "import" in messages(result, "sneaky")
    route = messages(result, "route")
    assert "شرط درگاه «route» به سوی «wait_message» اجرا نمی‌شود" in route
    assert "__class__" in route and "__bases__" in route and "__subclasses__" in route
    assert "رویداد پیام «wait_message» هیچ پیامی نام نمی‌برد" in messages(result, "wait_message")
    assert "«next Saturday»" in messages(result, "wait_date") and "تاریخ و ساعت" in messages(result, "wait_date")


# --- Files that are not a diagram -----------------------------------------------------------------------------


def test_a_truncated_file_names_the_line():
    result = verdict("truncated.bpmn")
    assert elements(result) == ["file"]
    assert "فایل XML درستی نیست" in result["errors"][0]["message"]
    assert "line 51" in result["errors"][0]["message"]  # libxml2's own words name the line
    assert result["processes"] == []


@pytest.mark.parametrize("content", [b"", b"   \n\t"])
def test_an_empty_file(content):
    assert verdict("empty.bpmn")["errors"] == [
        {"element": "file", "message": "فایل خالی است؛ نمودار را دوباره از ویرایشگر صادر کنید"}]
    assert verdict(content)["errors"][0]["message"].startswith("فایل خالی است")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.bpmn"
    path.write_bytes(bytes(range(256)) * 4 + b"\x89PNG\r\n\x1a\n")
    result = verdict(path.read_bytes())
    assert not result["ok"] and elements(result) == ["file"]
    message = result["errors"][0]["message"]
    assert "فایل XML درستی نیست" in message and ("line 1" in message or "سطر 1" in message)


def test_text_that_is_not_xml():
    result = verdict("روال: انشعاب جدید\nگام ۱: ثبت درخواست\n".encode())
    assert elements(result) == ["file"]
    assert "فایل XML درستی نیست" in result["errors"][0]["message"]


def test_a_dmn_file_is_not_a_process():
    result = verdict("fee_table.dmn")
    assert elements(result) == ["file"]
    assert "فایل تصمیم DMN" in result["errors"][0]["message"] and "نه نمودار BPMN 2.0" in result["errors"][0]["message"]


def test_another_xml_document():
    result = verdict(b'<?xml version="1.0"?>\n<html><body>diagram</body></html>')
    assert elements(result) == ["file"] and "<html>" in result["errors"][0]["message"]


def test_schema_violations_are_all_reported_with_their_lines():
    result = verdict("schema_violations.bpmn")
    assert elements(result) == ["file", "file"]
    first, second = (error["message"] for error in result["errors"])
    assert "در سطر 7 با طرح‌وارهٔ BPMN نمی‌خواند" in first and "startQuantity" in first
    assert "در سطر 12 با طرح‌وارهٔ BPMN نمی‌خواند" in second and "humour" in second


def test_a_collaboration_without_a_process():
    result = verdict("collaboration_only.bpmn")
    assert elements(result) == ["file"] and "فایل هیچ فرایندی ندارد" in result["errors"][0]["message"]


def test_a_process_marked_not_executable():
    result = verdict("draft_not_executable.bpmn")
    assert elements(result) == ["file"]
    assert "هیچ فرایند اجراشدنی ندارد" in result["errors"][0]["message"]
    assert "'name_change_draft'" in result["errors"][0]["message"]


# --- Another modeler ------------------------------------------------------------------------------------------


def test_a_camunda_diagram_gets_a_verdict_listing_what_is_missing():
    result = verdict("camunda_leave.bpmn")
    assert result["processes"] == ["Process_meter_test"]
    assert elements(result) == sorted(["Activity_request", "Activity_request", "Activity_test", "Activity_test",
                                       "Gateway_ok", "Event_reminder", "Activity_log"])
    request = messages(result, "Activity_request")
    assert "در هیچ مسیری (lane) نیست" in request and "فرمی نام نمی‌برد" in request and "camunda:formKey" in request
    assert "عبارت Camunda است" in messages(result, "Gateway_ok")
    assert '"PT5M" را با گیومه بنویسید' in messages(result, "Event_reminder")
    assert "syntax" in messages(result, "Activity_log")


# --- Where SpiffWorkflow's own parser gives up ----------------------------------------------------------------


def test_a_non_default_flow_without_condition_is_refused_by_spiffworkflow():
    result = verdict("flow_without_condition.bpmn")
    assert result["errors"] == [{
        "element": "f_farm",
        "message": "SpiffWorkflow نمی‌تواند فرایند را در «f_farm» (سطر 15) بسازد: "
                   "Non-default exclusive outgoing sequence flow without condition; "
                   "به این جریان شرط بدهید یا آن را جریان پیش‌فرض درگاه کنید.",
    }]


def test_a_property_without_value_crashes_spiffworkflow_and_gets_a_verdict():
    result = verdict("property_without_value.bpmn")
    assert elements(result) == ["read"]
    assert "KeyError('value')" in result["errors"][0]["message"]
    assert "ویژگی «value» را ندارد" in result["errors"][0]["message"]


def test_a_boundary_event_without_definition_is_refused_without_quoting_the_xml():
    start = VALID.index(b'<bpmn:timerEventDefinition id="inspection_late_def">')
    end = VALID.index(b"</bpmn:timerEventDefinition>") + len(b"</bpmn:timerEventDefinition>")
    result = verdict(VALID[:start] + VALID[end:])
    assert result["errors"] == [{
        "element": "inspection_late",
        "message": "SpiffWorkflow نمی‌تواند فرایند را در «inspection_late» (سطر 85) بسازد: Unsupported Catch Event; "
                   "برای رویداد مرزی زمان‌سنج، پیام، سیگنال یا خطا تعریف کنید.",
    }]



def test_a_message_reference_to_nothing_is_named_before_spiffworkflow_trips_on_it():
    result = verdict("missing_message.bpmn")
    assert elements(result) == ["wait_payment"]
    assert "به message «fee_payed_message» ارجاع می‌دهد" in result["errors"][0]["message"]


def test_a_sequence_flow_to_a_missing_element():
    # The schema types targetRef as IDREF, yet libxml2 lets a dangling one through.
    result = verdict(VALID.replace(b'targetRef="record"', b'targetRef="recrod"'))
    assert elements(result) == ["f_inspected"]
    assert "به «recrod» می‌رسد" in result["errors"][0]["message"]


def test_a_call_activity_to_a_process_in_another_file_and_an_embedded_subprocess():
    result = verdict("subprocesses.bpmn")
    assert result["processes"] == ["capacity_increase", "meter_upgrade"]
    assert elements(result) == ["call_billing", "estimate", "estimate"]
    assert "فرایند «billing_adjustment» را فرا می‌خواند که در این فایل نیست" in messages(result, "call_billing")
    # The embedded subprocess is walked; its task takes the lane of the subprocess, so no lane error.
    estimate = messages(result, "estimate")
    assert "فرم «cost_estimate»" in estimate and "ماه" in estimate and "مسیر" not in estimate


def test_a_parameter_without_value_attribute_is_dropped_by_spiffworkflow_and_reported_missing():
    result = verdict(VALID.replace(b'type="int" value="capacity"', b'type="int"'))
    assert elements(result) == ["compute_fee"]
    assert "پارامتر لازم «capacity»" in messages(result, "compute_fee")


def test_external_entities_are_not_read():
    doctype = b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    content = doctype + VALID.split(b"?>", 1)[1].replace(
        b"<bpmn:outgoing>f_start</bpmn:outgoing>",
        b"<bpmn:documentation>&secret;</bpmn:documentation><bpmn:outgoing>f_start</bpmn:outgoing>")
    result = verdict(content)
    assert result["errors"] == [{"element": "file", "message": "فایل DOCTYPE اعلام کرده است؛ نمودارهای BPMN نه DTD "
                                                               "دارند نه entity؛ آن را بردارید"}]
    assert "root:" not in str(result)


def test_an_unexpected_exception_still_gives_a_verdict(monkeypatch):
    def explode(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(validation, "_parse", explode)
    result = verdict("new_connection.bpmn")
    assert result["errors"] == [
        {"element": "file", "message": "خطای پیش‌بینی‌نشده هنگام خواندن نمودار: RuntimeError: boom"}]
    assert result["ok"] is False


# --- Timers ---------------------------------------------------------------------------------------------------

TIMER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="waiting" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_def"><bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize(("kind", "expression"), [
    ("timeDuration", '"PT2H"'),
    ("timeDuration", '"P1M"'),  # a waiting period of a month is fine for a timer (not for an SLA)
    ("timeDuration", "'P%dD' % 3"),
    ("timeDuration", 'f"PT{hours}H"'),  # reads the instance's data: only the running instance can compute it
    ("timeDate", '"2026-03-21T09:00:00+03:30"'),
    ("timeCycle", '"R3/PT1H"'),
])  # fmt: skip
def test_timers_that_will_run(kind, expression):
    assert verdict(TIMER.format(kind=kind, expression=expression).encode())["errors"] == []


@pytest.mark.parametrize(("kind", "expression", "expected"), [
    ("timeDuration", "PT1H", '"PT1H" را با گیومه بنویسید'),
    ("timeCycle", "R3/PT1H", '"R3/PT1H" را با گیومه بنویسید'),
    ("timeDate", "2026-03-21T09:00:00", '"2026-03-21T09:00:00" را با گیومه بنویسید'),
    ("timeDuration", "", "عبارتی ندارد"),
    ("timeDuration", '"an hour"', "مقدار «an hour» را می‌دهد که یک مدت زمان ISO 8601"),
    ("timeDuration", '"P"', "که یک مدت زمان ISO 8601"),
    ("timeDuration", "3600", "مقدار 3600 را می‌دهد، نه متنی"),
    ("timeDate", '"P1D"', "که یک تاریخ و ساعت ISO 8601"),
    ("timeCycle", '"PT1H"', "که یک تکرار ISO 8601"),
    ("timeDuration", '__import__("os")', "not allowed"),
    ("timeDuration", '"PT1H" +', "syntax"),
    ("timeDuration", "1 / 0", "ZeroDivisionError"),
])  # fmt: skip
def test_timers_that_will_not_run(kind, expression, expected):
    result = verdict(TIMER.format(kind=kind, expression=expression).encode())
    assert elements(result) == ["wait"]
    assert expected in result["errors"][0]["message"]


# --- parse_duration -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("PT4H", datetime.timedelta(hours=4)),
    ("P2D", datetime.timedelta(days=2)),
    ("P1DT2H30M", datetime.timedelta(days=1, hours=2, minutes=30)),
    ("P1W", datetime.timedelta(weeks=1)),
    ("PT90M", datetime.timedelta(minutes=90)),
    ("PT0.5S", datetime.timedelta(milliseconds=500)),
    ("pt4h", datetime.timedelta(hours=4)),
])  # fmt: skip
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "4H", "PT4", "4 hours", "P1M", "P1Y", "PT4H ago", "P1.5D",
                                  "P99999999999D", None, 4])
def test_not_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


# --- Any input at all -----------------------------------------------------------------------------------------

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_verdict(content):
    assert_shape(verdict(content))


@FAST
@given(st.integers(min_value=0, max_value=len(VALID)))
def test_any_truncation_of_the_valid_file_gives_a_verdict(length):
    result = verdict(VALID[:length])
    assert_shape(result)
    assert result["ok"] is (length == len(VALID) or not VALID[length:].strip())


@FAST
@given(st.integers(min_value=0, max_value=len(VALID)), st.integers(min_value=0, max_value=200), st.binary(max_size=40))
def test_any_splice_into_the_valid_file_gives_a_verdict(start, length, inserted):
    assert_shape(verdict(VALID[:start] + inserted + VALID[start + length:]))

