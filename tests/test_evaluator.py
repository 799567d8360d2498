"""The restricted evaluator: what analysts' scripts and conditions may do, and what they are refused."""

import pickle
import sys
import threading
import time
from datetime import date, datetime, timedelta

import pytest

from engine.evaluator import SAFE_BUILTINS, ScriptError, check, evaluate, execute


def _error(run, *args, **kwargs) -> ScriptError:
    with pytest.raises(ScriptError) as caught:
        run(*args, **kwargs)
    return caught.value


# --- Conditions and scripts on task data -------------------------------------------------------------------


def test_condition_on_task_data():
    condition = 'amount > 1000 and utility == "electricity"'
    assert evaluate(condition, {"amount": 2500, "utility": "electricity"}) is True
    assert evaluate(condition, {"amount": 900, "utility": "electricity"}) is False
    assert evaluate(condition, {"amount": 2500, "utility": "gas"}) is False


def test_condition_with_comprehension_and_builtins():
    data = {"meters": [{"kind": "single", "amps": 25}, {"kind": "three", "amps": 32}]}
    assert evaluate("any(m['kind'] == 'three' for m in meters)", data) is True
    assert evaluate("sum(m['amps'] for m in meters)", data) == 57
    assert evaluate("sorted(m['amps'] for m in meters)[-1]", data) == 32


def test_script_writes_back_values_but_not_helpers():
    variables = {"amount": 1_200_000, "kind": "residential"}
    script = """
def vat(value):
    return value * 10 // 100

rate = lambda value: value
tax = vat(amount)
total = amount + tax
installments = [total // 3 for i in range(3)]
summary = {"kind": kind, "total": total}
due = add_days(from_jalali("1403/12/28"), 5)
grace = timedelta(days=3)
"""
    execute(script, variables)
    assert variables["tax"] == 120_000
    assert variables["total"] == 1_320_000
    assert variables["installments"] == [440_000, 440_000, 440_000]
    assert variables["summary"] == {"kind": "residential", "total": 1_320_000}
    assert evaluate("jalali(due)", variables) == "1404/01/03"
    assert variables["amount"] == 1_200_000
    for name in ("vat", "rate", "grace", "__builtins__", "range", "add_days"):
        assert name not in variables, name


def test_script_can_use_control_flow_and_handle_its_own_errors():
    variables = {"readings": [120, 80, None, 150]}
    script = """
total = 0
problems = []
for index, reading in enumerate(readings):
    try:
        if reading < 100:
            continue
        total += reading
    except TypeError:
        problems.append(index)
n = 0
while n < 5:
    n += 1
"""
    execute(script, variables)
    assert variables["total"] == 270
    assert variables["problems"] == [2]
    assert variables["n"] == 5


def test_del_at_top_level_removes_the_variable():
    variables = {"draft": "x", "keep": 1}
    execute("del draft", variables)
    assert variables == {"keep": 1}


def test_evaluate_does_not_change_the_variables():
    variables = {"items": [1, 2]}
    assert evaluate("items.append(3) or len(items)", variables) == 3
    assert variables == {"items": [1, 2]}


def test_expression_may_not_hand_back_a_function_or_an_iterator():
    assert _error(evaluate, "lambda: 1", {}).code == "result"
    assert _error(evaluate, "map(abs, [1, -2])", {}).code == "result"
    assert evaluate("list(map(abs, [1, -2]))", {}) == [1, 2]
    assert evaluate("timedelta(hours=2)", {}) == timedelta(hours=2)


# --- Static refusals ---------------------------------------------------------------------------------------

REFUSED = [
    ("import os", "import", 1),
    ("x = 1\nfrom os import path", "import", 2),
    ("x = __import__('os')", "import", 1),
    ("x = 1 .__class__", "dunder", 1),
    ("_secret = 1", "dunder", 1),
    ("x = __builtins__", "dunder", 1),
    ("def f(_x):\n    return 1", "dunder", 1),
    ("global x", "forbidden_construct", 1),
    ("def f():\n    nonlocal x", "forbidden_construct", 2),
    ("class A:\n    pass", "forbidden_construct", 1),
    ("async def f():\n    pass", "forbidden_construct", 1),
    ("def f():\n    yield 1", "forbidden_construct", 2),
    ("try:\n    x = 1\nexcept:\n    pass", "forbidden_construct", 3),
    ("try:\n    x = 1\nfinally:\n    x = 2", "forbidden_construct", 1),
    ("x = '{}'.format(1)", "forbidden_attribute", 1),
    ("x = '{a}'.format_map({})", "forbidden_attribute", 1),
    ("x = int.mro()", "forbidden_attribute", 1),
    ("g = (i for i in [1])\nx = g.gi_frame", "forbidden_attribute", 2),
    *((f"x = 1\ny = {name}", "forbidden_name", 2) for name in (
        "exec", "eval", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals", "vars", "type",
        "input", "breakpoint", "help", "memoryview", "object", "super", "classmethod", "staticmethod", "property",
    )),
    ("x = 1\ny = (", "syntax", 2),
    ("x = 1\nreturn x", "syntax", 2),
]  # fmt: skip


@pytest.mark.parametrize(("source", "code", "line"), REFUSED)
def test_check_refuses_forbidden_constructs(source, code, line):
    errors = check(source)
    assert [(error.code, error.line) for error in errors] == [(code, line)]
    assert errors[0].message.startswith(f"line {line}: ")


@pytest.mark.parametrize(("source", "code", "line"), REFUSED)
def test_execute_refuses_without_running(source, code, line):
    variables = {"x": 0}
    assert _error(execute, f"x = 99\n{source}", variables).code == code
    assert variables == {"x": 0}


def test_check_reports_every_refusal_with_its_line():
    source = "import os\ntotal = 1\nx = ().__class__\ny = getattr(total, 'real')\nz = '{}'.format(1)\n"
    errors = check(source)
    assert [(error.code, error.line) for error in errors] == [
        ("import", 1),
        ("dunder", 3),
        ("forbidden_name", 4),
        ("forbidden_attribute", 5),
    ]
    assert "'import os'" in errors[0].message
    assert "'__class__'" in errors[1].message
    assert "'getattr'" in errors[2].message


def test_check_of_a_good_script_and_expression_is_empty():
    assert check("total = sum(x * 2 for x in range(10))\nif total > 5:\n    ok = True") == []
    assert check("amount > 1000 and utility == 'gas'", mode="eval") == []
    assert check("x = 1", mode="eval")[0].code == "syntax"


def test_import_refused_before_anything_runs():
    variables = {"status": "new"}
    error = _error(execute, "status = 'changed'\nimport os\nstatus = os.getcwd()", variables)
    assert (error.code, error.line) == ("import", 2)
    assert variables == {"status": "new"}


ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "getattr(x, '__class__')",
    '"{0.__class__}".format(1)',
    "[c for c in ().__class__.__mro__]",
    "__builtins__",
    "open('/etc/passwd')",
    "lambda: __import__('os')",
    "[g for g in [(i for i in [1])] for f in [g.gi_frame.f_back]]",
    "Decimal(1)",
    "exit()",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempts_fail(source):
    assert _error(evaluate, source, {"x": 1}).code != "result"
    variables = {"x": 1}
    _error(execute, f"x = 2\ny = {source}", variables)
    assert variables == {"x": 1}


def test_safe_builtins_hold_no_way_out():
    for name in ("open", "getattr", "__import__", "eval", "exec", "type", "object", "Decimal", "globals", "exit"):
        assert name not in SAFE_BUILTINS
    assert {"len", "range", "sorted", "today", "jalali", "from_jalali", "ValueError"} <= SAFE_BUILTINS.keys()


# --- Time and size bounds ----------------------------------------------------------------------------------


def _timed(run, *args, **kwargs) -> tuple[ScriptError, float]:
    started = time.monotonic()
    error = _error(run, *args, **kwargs)
    return error, time.monotonic() - started


@pytest.mark.parametrize(
    "script",
    [
        "while True: pass",
        "x = 0\nwhile True:\n    x += 1",
        "x = [0 for i in range(10**6) for j in range(10**6)]",
        "def f(n):\n    return [f(n - 1) for i in range(3)] if n else 0\nwhile True:\n    f(5)",
        # The timeout cannot be caught by the script:
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
    ],
)
def test_endless_script_is_stopped_by_the_time_limit(script):
    variables = {"x": 5}
    error, elapsed = _timed(execute, script, variables, time_limit=0.3)
    assert error.code == "timeout"
    assert error.line is not None
    assert elapsed < 0.6
    assert variables == {"x": 5}


def test_time_limit_works_in_a_worker_thread():
    outcome = {}

    def work():
        outcome["error"], outcome["elapsed"] = _timed(execute, "while True: pass", {}, time_limit=0.3)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert outcome["error"].code == "timeout"
    assert outcome["elapsed"] < 0.6


def test_a_previous_tracer_is_put_back():
    def tracer(frame, event, arg):
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        execute("x = 1", {})
        _error(execute, "while True: pass", {}, time_limit=0.05)
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)


@pytest.mark.parametrize(
    "source",
    [
        "sum(range(10**12))",
        "list(range(10**7))",
        "10**10**10",
        "2 ** 20000",
        "'a' * 10**10",
        "[0] * 10**9",
        "10**9 * (0,)",
        "1 << 10**10",
        "round(1, -10**9)",
    ],
)
def test_huge_results_are_refused_quickly(source):
    error, elapsed = _timed(evaluate, source, {})
    assert error.code == "too_large"
    assert elapsed < 0.5


def test_huge_results_through_augmented_assignment_and_squaring():
    scripts = [("s = 'a'\ns *= 10**10", 2), ("n = 10\nn **= 10**10", 2), ("x = 2**5000\nwhile True:\n    x = x * x", 3)]
    for script, line in scripts:
        error, elapsed = _timed(execute, script, {}, time_limit=2)
        assert (error.code, error.line) == ("too_large", line)
        assert elapsed < 0.5


def test_reasonable_sizes_are_fine():
    assert evaluate("len('ab' * 1000)", {}) == 2000
    assert evaluate("2 ** 100", {}) == 1267650600228229401496703205376
    assert evaluate("len(list(range(1000)))", {}) == 1000
    assert evaluate("round(1234.5678, 2)", {}) == 1234.57


# --- Runtime errors ----------------------------------------------------------------------------------------


def test_runtime_errors_name_their_line():
    error = _error(execute, "a = 1\nb = 0\nc = a / b", {})
    assert (error.code, error.line) == ("runtime", 3)
    assert error.message == "line 3: ZeroDivisionError: division by zero"

    error = _error(execute, "def pick(d):\n    return d['missing']\n\nx = pick({})", {})
    assert (error.code, error.line) == ("runtime", 2)
    assert "KeyError: 'missing'" in error.message

    error = _error(evaluate, "unknown + 1", {})
    assert error.message == "line 1: NameError: name 'unknown' is not defined"


def test_failed_execute_leaves_variables_untouched():
    items = [1, 2]
    variables = {"items": items, "count": 2, "nested": {"a": [1]}}
    script = "items.append(3)\nnested['a'].append(2)\ncount = 3\nnew = 'x'\nint('not a number')"
    error = _error(execute, script, variables)
    assert (error.code, error.line) == ("runtime", 5)
    assert variables == {"items": [1, 2], "count": 2, "nested": {"a": [1]}}
    assert variables["items"] is items


def test_script_error_copies_and_pickles():
    error = _error(execute, "x = 1 / 0", {})
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, just made
    assert (again.code, again.line, again.message) == (error.code, error.line, error.message)


# --- Jalali helpers ----------------------------------------------------------------------------------------


def test_jalali_round_trip_and_new_year():
    assert evaluate('jalali(from_jalali("1403/12/30"))', {}) == "1403/12/30"
    assert evaluate('from_jalali("1403/12/30")', {}) == date(2025, 3, 20)
    assert evaluate('jalali(add_days(from_jalali("1403/12/30"), 1))', {}) == "1404/01/01"
    new_year = evaluate('add_days(from_jalali("1403/12/30"), 1)', {})
    parts = evaluate("(jalali_year(d), jalali_month(d), jalali_day(d))", {"d": new_year})
    assert parts == (1404, 1, 1)


def test_jalali_of_a_datetime_is_its_date_in_tehran():
    late_evening_utc = datetime.fromisoformat("2025-03-20T21:00:00+00:00")  # 00:30 on 1 Farvardin in Tehran
    assert evaluate("jalali(t)", {"t": late_evening_utc}) == "1404/01/01"
    assert evaluate("jalali_day(t)", {"t": late_evening_utc}) == 1


def test_today_and_now():
    assert isinstance(evaluate("today()", {}), date)
    assert evaluate("now()", {}).tzinfo is not None


def test_bad_jalali_date_is_a_runtime_error_the_script_can_catch():
    assert _error(evaluate, 'from_jalali("1403/13/01")', {}).code == "runtime"
    variables = {}
    execute('try:\n    d = from_jalali("1402/12/30")\nexcept ValueError:\n    d = None', variables)
    assert variables == {"d": None}
