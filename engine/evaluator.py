"""The restricted evaluator for analysts' scripts and gateway conditions in BPMN diagrams.

A diagram is data from a user, not trusted code. The source is checked statically (no imports, no names
starting with `_`, no introspection), rewritten so that `**`, `*` and `<<` go through size guards, and run
with a small set of builtins under a wall-clock bound. Standard library and `core.jalali` only.
"""

import ast
import copy
import functools
import sys
import time
from datetime import UTC, date, datetime, timedelta

from core.jalali import TEHRAN, as_tehran, format_jalali_date, parse_jalali_date, to_jalali

FILENAME = "<script>"
MAX_ITEMS = 1_000_000  # elements a range, a repetition or a written-back value may hold
MAX_EXPONENT = 10_000
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MAX_DEPTH = 100  # nesting of a written-back value
MAX_SOURCE = 100_000  # characters

FORBIDDEN_NAMES = frozenset({
    "exec", "eval", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals", "vars", "type",
    "input", "breakpoint", "help", "memoryview", "object", "super", "classmethod", "staticmethod", "property",
})  # fmt: skip
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro"})  # str.format reaches attributes by name
# Generators, frames, code objects and tracebacks lead back to the evaluator's globals and the real builtins.
FORBIDDEN_ATTRIBUTE_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_")
FORBIDDEN_NODES = {
    ast.Global: "'global'", ast.Nonlocal: "'nonlocal'", ast.ClassDef: "a class definition",
    ast.AsyncFunctionDef: "'async def'", ast.AsyncFor: "'async for'", ast.AsyncWith: "'async with'",
    ast.Await: "'await'", ast.Yield: "'yield'", ast.YieldFrom: "'yield from'",
}  # fmt: skip


class ScriptError(Exception):
    """A script or expression was refused or failed. Attributes: .code (short machine code such as
    'import', 'dunder', 'forbidden_name', 'syntax', 'timeout', 'too_large', 'runtime'), .line (int|None),
    .message (English, one sentence, names the offending construct)."""

    def __init__(self, code: str, detail: str, line: int | None = None):
        super().__init__(code, detail, line)  # all three in args, so the error copies and pickles
        self.code = code
        self.line = line
        self.message = f"line {line}: {detail}" if line else detail

    def __str__(self) -> str:
        return self.message


class _Abort(BaseException):
    """Raised by the guards and the tracer: not an Exception, so a script's `except Exception` cannot swallow it."""

    def __init__(self, code: str, detail: str):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def _describe(value) -> str:
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length():,} bits"
    return repr(value)


def _guard_pow(base, exponent):
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if exponent > MAX_EXPONENT or base.bit_length() * exponent > MAX_INT_BITS:
            raise _Abort("too_large", f"{_describe(base)} ** {_describe(exponent)} would be too large")
    return base**exponent


def _guard_mul(left, right):
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _Abort("too_large", f"{_describe(left)} * {_describe(right)} would be too large")
    else:
        sequence, count = (left, right) if isinstance(right, int) else (right, left)
        if isinstance(sequence, str | bytes | list | tuple) and isinstance(count, int):
            if len(sequence) * count > MAX_ITEMS:
                what = f"a {type(sequence).__name__} of length {len(sequence):,}"
                raise _Abort("too_large", f"repeating {what} {count:,} times would exceed {MAX_ITEMS:,} items")
    return left * right


def _guard_lshift(value, shift):
    if isinstance(value, int) and isinstance(shift, int) and value and value.bit_length() + shift > MAX_INT_BITS:
        raise _Abort("too_large", f"{_describe(value)} << {_describe(shift)} would be too large")
    return value << shift


def _guard_loop(test):
    # `while True: pass` compiles to a jump to itself that never reports a 'line' event to the tracer;
    # a call in the test gives every iteration an instruction to trace.
    return test


_GUARDS = {
    "__guard_pow": _guard_pow, "__guard_mul": _guard_mul, "__guard_lshift": _guard_lshift, "__guard_loop": _guard_loop
}  # fmt: skip
_GUARD_FOR = {ast.Pow: "__guard_pow", ast.Mult: "__guard_mul", ast.LShift: "__guard_lshift"}


def _safe_range(*args):
    result = range(*args)
    try:
        size = len(result)
    except OverflowError:  # more than sys.maxsize elements
        size = MAX_ITEMS + 1
    if size > MAX_ITEMS:
        raise _Abort("too_large", f"range() of {size:,} elements exceeds the limit of {MAX_ITEMS:,}")
    return result


def _safe_sum(iterable, /, start=0):
    # sum(lists, []) concatenates inside C, where neither the tracer nor the guards can stop it.
    if not isinstance(start, int | float):
        raise TypeError("sum() adds numbers only")
    return sum(iterable, start)


def _safe_round(number, ndigits=None):
    # round(1, -10**9) computes 10 ** 10**9 inside C.
    if isinstance(ndigits, int) and abs(ndigits) > MAX_EXPONENT:
        raise _Abort("too_large", f"round() to {ndigits:,} digits would be too large")
    return round(number, ndigits)


def today() -> date:
    """Today's date in Tehran."""
    return datetime.now(TEHRAN).date()


def now() -> datetime:
    return datetime.now(UTC)


def _tehran_date(value: date) -> date:
    return as_tehran(value).date() if isinstance(value, datetime) else value


def jalali(value: date) -> str:
    """`1403/12/30` in ASCII digits; a datetime is shown as its date in Tehran."""
    return format_jalali_date(value, persian_digits=False)


def from_jalali(text: str) -> date:
    return parse_jalali_date(text)


def jalali_year(value: date) -> int:
    return to_jalali(_tehran_date(value)).year


def jalali_month(value: date) -> int:
    return to_jalali(_tehran_date(value)).month


def jalali_day(value: date) -> int:
    return to_jalali(_tehran_date(value)).day


def add_days(value: date, days: int) -> date:
    return value + timedelta(days=days)


SAFE_BUILTINS = {
    "None": None, "True": True, "False": False,
    "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "divmod": divmod, "enumerate": enumerate,
    "filter": filter, "float": float, "int": int, "isinstance": isinstance, "len": len, "list": list, "map": map,
    "max": max, "min": min, "range": _safe_range, "reversed": reversed, "round": _safe_round, "set": set,
    "sorted": sorted, "str": str, "sum": _safe_sum, "tuple": tuple, "zip": zip,
    "ValueError": ValueError, "KeyError": KeyError, "TypeError": TypeError,
    "ZeroDivisionError": ZeroDivisionError, "Exception": Exception,
    "date": date, "datetime": datetime, "timedelta": timedelta, "today": today, "now": now,
    "jalali": jalali, "from_jalali": from_jalali, "jalali_year": jalali_year, "jalali_month": jalali_month,
    "jalali_day": jalali_day, "add_days": add_days,
}  # fmt: skip
_INJECTED = frozenset({"__builtins__", *_GUARDS})


def _identifiers(node: ast.AST) -> list[tuple[str, bool]]:
    """(name, is_attribute) for every identifier a node spells out."""
    if isinstance(node, ast.Attribute):
        return [(node.attr, True)]
    if isinstance(node, ast.MatchClass):  # `case int(real=r)` reads attributes by name
        return [(name, True) for name in node.kwd_attrs]
    names = (getattr(node, field, None) for field in ("id", "arg", "name", "asname", "rest"))
    return [(name, False) for name in names if isinstance(name, str)]


def _refusals(tree: ast.AST) -> list[ScriptError]:
    errors = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if isinstance(node, ast.Import | ast.ImportFrom):
            errors.append(ScriptError("import", f"'{ast.unparse(node)}': imports are not allowed", line))
        elif type(node) in FORBIDDEN_NODES:
            errors.append(ScriptError("forbidden_construct", f"{FORBIDDEN_NODES[type(node)]} is not allowed", line))
        elif isinstance(node, ast.Try | ast.TryStar) and node.finalbody:
            # A `finally` block would still run, untraced, after the time bound stopped the script.
            errors.append(ScriptError("forbidden_construct", "'try ... finally' is not allowed", line))
        elif isinstance(node, ast.ExceptHandler) and node.type is None:
            errors.append(ScriptError("forbidden_construct", "a bare 'except:' is not allowed", line))
        for name, is_attribute in _identifiers(node):
            if name == "__import__":
                errors.append(ScriptError("import", "'__import__' is not allowed", line))
            elif name.startswith("_"):
                errors.append(ScriptError("dunder", f"'{name}' is not allowed: names may not start with '_'", line))
            elif is_attribute and (name in FORBIDDEN_ATTRIBUTES or name.startswith(FORBIDDEN_ATTRIBUTE_PREFIXES)):
                errors.append(ScriptError("forbidden_attribute", f"the attribute '.{name}' is not allowed", line))
            elif isinstance(node, ast.Name) and name in FORBIDDEN_NAMES:
                errors.append(ScriptError("forbidden_name", f"'{name}' is not allowed", line))
    return sorted(errors, key=lambda error: error.line or 0)


def _guard_call(name: str, left: ast.expr, right: ast.expr, where: ast.AST) -> ast.Call:
    return ast.copy_location(ast.Call(ast.Name(name, ast.Load()), [left, right], []), where)


class _Guarder(ast.NodeTransformer):
    """`a ** b` → `__guard_pow(a, b)` (likewise `*`, `<<`); `x *= n` → `x = __guard_mul(x, n)`;
    `while t:` → `while __guard_loop(t):`."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        guard = _GUARD_FOR.get(type(node.op))
        return _guard_call(guard, node.left, node.right, node) if guard else node

    def visit_While(self, node: ast.While) -> ast.stmt:
        self.generic_visit(node)
        node.test = ast.copy_location(ast.Call(ast.Name("__guard_loop", ast.Load()), [node.test], []), node.test)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        guard = _GUARD_FOR.get(type(node.op))
        if not guard:
            return node
        # The target is read and written as two steps: a subscript's index is evaluated twice.
        current = copy.deepcopy(node.target)
        current.ctx = ast.Load()
        return ast.copy_location(ast.Assign([node.target], _guard_call(guard, current, node.value, node)), node)


@functools.lru_cache(maxsize=512)
def _analyse(source: str, mode: str) -> tuple[tuple[ScriptError, ...], object]:
    """(refusals, code object); the code is None when anything was refused."""
    if len(source) > MAX_SOURCE:
        return (ScriptError("too_large", f"the source is longer than {MAX_SOURCE:,} characters"),), None
    try:
        tree = ast.parse(source, FILENAME, mode)
        errors = _refusals(tree)
        if errors:
            return tuple(errors), None
        return (), compile(ast.fix_missing_locations(_Guarder().visit(tree)), FILENAME, mode)
    except SyntaxError as exc:  # also raised by compile(): `return` outside a function, `break` outside a loop
        return (ScriptError("syntax", f"syntax error: {exc.msg}", exc.lineno),), None
    except ValueError as exc:  # null bytes in the source
        return (ScriptError("syntax", f"syntax error: {exc}"),), None
    except (RecursionError, MemoryError):
        return (ScriptError("too_large", "the source is nested too deeply"),), None


def _compiled(source: str, mode: str):
    errors, code = _analyse(source, mode)
    if errors:
        raise copy.copy(errors[0])  # a fresh exception: the cached one must not collect tracebacks
    return code


def _script_line(exc: BaseException) -> int | None:
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _run(code, variables: dict, time_limit: float):
    """Run `code` on a deep copy of `variables`; returns (result, names). A failed run changes nothing."""
    names = {**copy.deepcopy(variables), **_GUARDS, "__builtins__": SAFE_BUILTINS}
    deadline = time.monotonic() + time_limit

    def trace_lines(frame, event, arg):
        if event == "line" and time.monotonic() > deadline:
            raise _Abort("timeout", f"the script ran longer than {time_limit:g} s and was stopped")
        return trace_lines

    def trace_calls(frame, event, arg):
        # Only the script's own frames are traced: guards and helpers run at full speed.
        return trace_lines if frame.f_code.co_filename == FILENAME else None

    previous = sys.gettrace()  # a debugger's or coverage's tracer, put back afterwards
    sys.settrace(trace_calls)  # per thread, so this works in a web server's worker threads
    try:
        # eval() runs an "exec"-mode code object too (returning None).
        result = eval(code, names)  # noqa: S307 - code compiled from a checked and guarded AST, safe builtins only
    except _Abort as exc:
        raise ScriptError(exc.code, exc.detail, _script_line(exc)) from None
    except Exception as exc:
        raise ScriptError("runtime", f"{type(exc).__name__}: {exc}", _script_line(exc)) from None
    finally:
        sys.settrace(previous)
    return result, names


def _is_data(value, what: str, loose: bool = False) -> bool:
    """JSON-like (plus dates)? `loose` also admits tuples, sets, bytes, ranges and timedeltas."""
    stack, seen = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_ITEMS or depth > MAX_DEPTH:
            raise ScriptError("too_large", f"{what} holds over {MAX_ITEMS:,} items or {MAX_DEPTH} levels of nesting")
        if isinstance(item, type(None) | bool | int | float | str | date):  # datetime is a date
            continue
        if loose and isinstance(item, timedelta | bytes | range):
            continue
        if isinstance(item, list) or (loose and isinstance(item, tuple | set | frozenset)):
            stack.extend((element, depth + 1) for element in item)
        elif isinstance(item, dict) and (loose or all(isinstance(key, str) for key in item)):
            stack.extend((element, depth + 1) for element in (*item.keys(), *item.values()))
        else:
            return False
    return True


def check(source: str, mode: str = "exec") -> list[ScriptError]:
    """Static check without running anything: syntax plus every forbidden construct found (all of them,
    not just the first). mode is 'exec' (scripts) or 'eval' (conditions/expressions). [] when fine."""
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    return [copy.copy(error) for error in _analyse(source, mode)[0]]


def evaluate(expression: str, variables: dict, time_limit: float = 1.0):
    """Evaluate an expression with `variables` as its names; returns the value. Raises ScriptError."""
    result, _ = _run(_compiled(expression, "eval"), variables, time_limit)
    # A returned function or iterator would run later, outside the time bound.
    if not _is_data(result, "the expression", loose=True):
        raise ScriptError("result", f"the expression gives a {type(result).__name__}, not a value")
    return result


def execute(script: str, variables: dict, time_limit: float = 1.0) -> None:
    """Run a script; names it assigns at top level are written back into `variables` (a task's data
    dict) — only JSON-like values (None/bool/int/float/str/list/dict and date/datetime) are kept;
    functions, modules, helpers are not written back. Raises ScriptError; on error `variables` is left
    exactly as before (no partial update)."""
    _, names = _run(_compiled(script, "exec"), variables, time_limit)
    updates = {name: value for name, value in names.items() if name not in _INJECTED and _is_data(value, f"'{name}'")}
    deleted = [name for name in variables if name not in names]  # `del x` at top level
    variables.update(updates)
    for name in deleted:
        del variables[name]
