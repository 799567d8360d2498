"""User-task forms: which form-js components Madam supports, what is wrong with a schema, and a submission
checked against its schema.

A form is a form-js schema (the bpmn.io form format, `forms/<formKey>.json`). Supported form-js types:
textfield, textarea, number, checkbox, checklist, radio, select, datetime (typed and shown as Jalali),
text, group, separator and spacer. Platform components (their values, once validated):

    madam:subscriber   subscriber lookup      -> int (the subscriber's id)
    madam:contract     contract lookup        -> int (the contract's id)
    madam:meter        meter lookup           -> int (the meter's id)
    madam:tariffType   tariff type select     -> str (the tariff type's code)
    madam:document     document upload        -> int (the stored document's id)
    madam:mapPoint     a point on the map     -> {"lat": float, "lng": float}, inside Iran
    madam:rial         an amount in rials     -> int

A textfield whose `"properties": {"madam": …}` is nationalId, legalId, mobile or postalCode is checked with
that Iranian standard and its value stored canonically (ASCII digits; a mobile as 09…).

The other values: number -> int (float when `decimalDigits` > 0), checkbox -> bool, checklist -> list[str]
in the options' order, datetime -> "YYYY-MM-DD" (Gregorian) for subtype date, "HH:MM" for time,
"YYYY-MM-DDTHH:MM" (Tehran time) for datetime; textfield, textarea, radio, select -> str. An empty optional
field is "" for text, [] for a checklist, False for a checkbox and None for the rest. Fields marked
`disabled` or `readonly` in the schema are not read from a submission.

Not supported (refused by `schema_problems`, so a form is rejected when its process is validated):
conditions (`conditional`), FEEL expressions in labels or text, options from the process data (`valuesKey`,
`valuesExpression`), groups with a `path`, dynamic lists, and any other form-js type.

Pure Python: the engine checks schemas at deploy and submissions when a work item is completed; the web
layer supplies the registry lookups. Messages to the user are English msgids translated by Flask-Babel.
"""

import keyword
import re
from datetime import datetime
from decimal import Decimal

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.identifiers import is_legal_entity_id, is_national_id, is_postal_code, normalize_mobile
from core.jalali import TEHRAN, InvalidJalaliDate, parse_jalali_date
from core.text import normalize_persian, to_ascii_digits, to_persian_digits

SUBSCRIBER, CONTRACT, METER = "madam:subscriber", "madam:contract", "madam:meter"
TARIFF_TYPE, DOCUMENT, MAP_POINT, RIAL = "madam:tariffType", "madam:document", "madam:mapPoint", "madam:rial"
LOOKUP_TYPES = frozenset({SUBSCRIBER, CONTRACT, METER})
PLATFORM_TYPES = LOOKUP_TYPES | {TARIFF_TYPE, DOCUMENT, MAP_POINT, RIAL}
CHOICE_TYPES = frozenset({"checklist", "radio", "select"})
INPUT_TYPES = frozenset({"textfield", "textarea", "number", "checkbox", "datetime"}) | CHOICE_TYPES | PLATFORM_TYPES
DISPLAY_TYPES = frozenset({"text", "separator", "spacer"})
SUPPORTED_TYPES: frozenset[str] = INPUT_TYPES | DISPLAY_TYPES | {"group"}
TEXT_VALIDATORS = ("nationalId", "legalId", "mobile", "postalCode")  # textfield "properties": {"madam": …}
DATETIME_SUBTYPES = ("date", "time", "datetime")
JALALI_YEARS = (1300, 1499)  # a typed year outside these is refused
IRAN_BOUNDS = {"lat": (25.0, 40.0), "lng": (44.0, 64.0)}
DEFAULT_MAX_LENGTH = {"textfield": 500, "textarea": 5000}  # when the schema sets no maxLength
RESERVED_KEYS = frozenset({"csrf_token"})

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TRUE, _FALSE = {"true", "on", "1", "yes"}, {"", "false", "off", "0", "no"}
_NUMBER = re.compile(r"[-+]?\d{1,18}(?:\.\d{1,12})?")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_PHONE = re.compile(r"\+?[\d\s\-()]{8,20}")
_IDENTIFIER_CHARS = re.compile(r"[\d\s\-+()]+")
_TARIFF_CODE = re.compile(r"[\w.\-]{1,64}")


class _Invalid(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


class _Number:
    """A number in a message: Persian digits when the user reads Persian."""

    def __init__(self, value):
        self.value = value

    def __str__(self) -> str:
        text = f"{self.value:,}" if isinstance(self.value, int) else str(self.value)
        locale = get_locale()
        if locale is not None and locale.language == "fa":
            return to_persian_digits(text).replace(",", "٬")
        return text


# --- The shape of a schema ----------------------------------------------------------------------------------


def components(schema) -> list:
    """The top-level components of a schema (an empty list for anything that has none)."""
    found = schema.get("components") if isinstance(schema, dict) else None
    return found if isinstance(found, list) else []


def walk(items):
    """Every component, groups included, depth first in reading order."""
    for component in items or []:
        if isinstance(component, dict):
            yield component
            if component.get("type") == "group" and isinstance(component.get("components"), list):
                yield from walk(component["components"])


def fields(schema: dict) -> list[dict]:
    """The input components flattened (groups walked), in order."""
    return [c for c in walk(components(schema)) if c.get("type") in INPUT_TYPES and c.get("key")]


def label_of(component: dict) -> str:
    label = component.get("label") or component.get("dateLabel") or component.get("timeLabel")
    return str(label or component.get("key") or "")


def validator_of(component: dict) -> str | None:
    """The platform validator a textfield asks for in its properties, if any."""
    properties = component.get("properties")
    return properties.get("madam") if isinstance(properties, dict) else None


def options_of(component: dict) -> list[tuple[str, str]]:
    """(value, label) of a select, radio, checklist or tariff type select, values as text."""
    found = []
    for option in component.get("values") or []:
        if isinstance(option, dict) and "value" in option and option["value"] is not None:
            found.append((str(option["value"]), str(option.get("label") or option["value"])))
    return found


# --- Problems an analyst can fix ------------------------------------------------------------------------------


def schema_problems(schema: dict) -> list[str]:
    """English, one per problem: unsupported components, missing or duplicate keys, bad validation rules."""
    if not isinstance(schema, dict):
        return ["the form is not a JSON object; export it from the form editor again"]
    if "components" in schema and not isinstance(schema["components"], list):
        return ["the form's 'components' is not a list; export it from the form editor again"]
    problems: list[str] = []
    keys: dict[str, int] = {}
    _check_list(schema.get("components") or [], problems, keys)
    for key, count in keys.items():
        if count > 1:
            problems.append(f"the key '{key}' is used by {count} components; each field needs its own key")
    return problems


def _check_list(items: list, problems: list, keys: dict) -> None:
    for position, component in enumerate(items, start=1):
        if not isinstance(component, dict):
            problems.append(f"component #{position} is not an object")
            continue
        problems.extend(_component_problems(component, keys))
        if component.get("type") == "group":
            if isinstance(component.get("components"), list):
                _check_list(component["components"], problems, keys)
            elif "components" in component:
                problems.append(f"the group {_name(component)} has 'components' that is not a list")


def _name(component: dict) -> str:
    if component.get("key"):
        return f"'{component['key']}'"
    if component.get("id"):
        return f"with id '{component['id']}'"
    return f"labelled '{component['label']}'" if component.get("label") else "without key or id"


def _component_problems(c: dict, keys: dict) -> list[str]:
    kind, name = c.get("type"), _name(c)
    if not kind:
        return [f"the component {name} has no type"]
    if kind not in SUPPORTED_TYPES:
        return [f"the component {name} has the type '{kind}', which Madam does not support; supported "
                f"types: {', '.join(sorted(SUPPORTED_TYPES))}"]
    problems = []
    if kind in INPUT_TYPES:
        problems += _key_problems(c, kind, keys)
    if c.get("conditional"):
        problems.append(f"the {kind} {name} has a condition (conditional), which the server does not evaluate; "
                        "remove it or move the field to another task's form")
    for attribute in ("label", "dateLabel", "timeLabel", "text", "description"):
        value = c.get(attribute)
        if isinstance(value, str) and value.lstrip().startswith("="):
            problems.append(f"the {attribute} of the {kind} {name} is an expression ({value.strip()[:40]}), which "
                            "the server does not evaluate; write plain text")
    if kind == "group" and c.get("path"):
        problems.append(f"the group {name} has a path ('{c['path']}'), which is not supported; remove the path "
                        "so its fields keep their own keys")
    if kind in CHOICE_TYPES or kind == TARIFF_TYPE:
        problems += _option_problems(c, kind, name)
    if kind == "datetime" and c.get("subtype", "date") not in DATETIME_SUBTYPES:
        problems.append(f"the datetime {name} has the subtype '{c.get('subtype')}'; use date, time or datetime")
    if kind == "number" and "decimalDigits" in c and c["decimalDigits"] not in (None, ""):
        digits = c["decimalDigits"]
        if not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 12:
            problems.append(f"the number {name} has decimalDigits {digits!r}; use a whole number from 0 to 12")
    problems += _property_problems(c, kind, name)
    problems += _rule_problems(c, kind, name)
    return problems


def _key_problems(c: dict, kind: str, keys: dict) -> list[str]:
    key = c.get("key")
    if not key or not isinstance(key, str):
        return [f"the {kind} {_name(c)} has no key; give it a key, the name of its value in the process data"]
    keys[key] = keys.get(key, 0) + 1
    if not _KEY.fullmatch(key):
        return [f"the key '{key}' of the {kind} is not a plain name; use Latin letters, digits and _, "
                "not starting with a digit (no dots: nested data is not supported)"]
    if keyword.iskeyword(key) or key in RESERVED_KEYS or key.startswith("__"):
        return [f"the key '{key}' of the {kind} is reserved; choose another name"]
    return []


def _option_problems(c: dict, kind: str, name: str) -> list[str]:
    if c.get("valuesKey") or c.get("valuesExpression"):
        return [f"the {kind} {name} takes its options from the process data (valuesKey or valuesExpression), "
                "which is not supported; list the options in the form"]
    values = c.get("values")
    if kind == TARIFF_TYPE and values is None:
        return []  # the options come from the tariff registry
    if not isinstance(values, list) or not values:
        return [f"the {kind} {name} has no options; add its values (label and value)"]
    problems, seen = [], set()
    for option in values:
        value = option.get("value") if isinstance(option, dict) else None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or str(value) == "":
            problems.append(f"the {kind} {name} has an option without a value ({option!r})")
        elif str(value) in seen:
            problems.append(f"the {kind} {name} has the option value '{value}' twice")
        else:
            seen.add(str(value))
    return problems


def _property_problems(c: dict, kind: str, name: str) -> list[str]:
    properties = c.get("properties")
    if properties is None:
        return []
    if not isinstance(properties, dict):
        return [f"the properties of the {kind} {name} are not an object"]
    validator = properties.get("madam")
    if validator is None:
        return []
    if kind != "textfield":
        return [f"the {kind} {name} has the property madam='{validator}', which only a textfield may have"]
    if validator not in TEXT_VALIDATORS:
        return [f"the textfield {name} has the property madam='{validator}'; known: {', '.join(TEXT_VALIDATORS)}"]
    return []


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _rule_problems(c: dict, kind: str, name: str) -> list[str]:
    rules = c.get("validate")
    if rules is None:
        return []
    if not isinstance(rules, dict):
        return [f"the validation rules of the {kind} {name} are not an object"]
    problems = []
    if "required" in rules and not isinstance(rules["required"], bool):
        problems.append(f"'required' of the {kind} {name} is {rules['required']!r}; use true or false")
    for rule in ("min", "max"):
        if rules.get(rule) not in (None, "") and not _is_number(rules[rule]):
            problems.append(f"'{rule}' of the {kind} {name} is {rules[rule]!r}, not a number")
    if _is_number(rules.get("min")) and _is_number(rules.get("max")) and rules["min"] > rules["max"]:
        problems.append(f"'min' of the {kind} {name} is greater than its 'max'")
    for rule in ("minLength", "maxLength"):
        value = rules.get(rule)
        if value not in (None, "") and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"'{rule}' of the {kind} {name} is {value!r}, not a whole number of characters")
    low, high = rules.get("minLength"), rules.get("maxLength")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.append(f"'minLength' of the {kind} {name} is greater than its 'maxLength'")
    pattern = rules.get("pattern")
    if pattern not in (None, ""):
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            problems.append(f"the pattern of the {kind} {name} does not compile: {exc}")
    if rules.get("validationType") not in (None, "", "custom", "email", "phone"):
        problems.append(f"the validationType '{rules['validationType']}' of the {kind} {name} is unknown; "
                        "use email or phone")
    return problems


# --- A submission ----------------------------------------------------------------------------------------------


def validate_submission(schema: dict, form, *, lookups: dict | None = None, files=None):
    """-> (data, errors): the values typed for the workflow, and {key: [message]} for the fields refused.

    `form` is the submitted MultiDict (a plain dict works too); uploads may come in `files`. `lookups` maps a
    platform type to a function resolving what was typed: madam:subscriber/contract/meter -> int id or None,
    madam:tariffType -> code or None, madam:document (a FileStorage or a typed id) -> int id or None. Without
    one, a positive integer id is accepted. Uploads are stored (the document lookup is called) only when every
    other field is valid."""
    lookups = lookups or {}
    data, errors, uploads = {}, {}, []
    for component in fields(schema):
        if component.get("disabled") or component.get("readonly"):
            continue
        key, kind = component["key"], component["type"]
        try:
            if kind == DOCUMENT:
                data[key] = _document(component, form, files, lookups, uploads)
            else:
                data[key] = _CHECKS[kind](component, form, lookups)
        except _Invalid as exc:
            errors.setdefault(key, []).append(exc.message)
    if not errors:
        for key, component, upload in uploads:
            try:
                data[key] = _resolve(component, lookups[DOCUMENT], upload, _l(
                    "%(label)s: the document could not be stored.", label=label_of(component)))
            except _Invalid as exc:
                errors.setdefault(key, []).append(exc.message)
    return data, errors


def _rules(c: dict) -> dict:
    return c.get("validate") if isinstance(c.get("validate"), dict) else {}


def is_required(c: dict) -> bool:
    return _rules(c).get("required") is True


def _raw(form, name: str):
    if form is None:
        return ""
    value = form.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return value if value is not None else ""


def _text_of(form, name: str) -> str:
    value = _raw(form, name)
    return value.strip() if isinstance(value, str) else ""


def _getlist(form, name: str) -> list:
    if form is None:
        return []
    if hasattr(form, "getlist"):
        return form.getlist(name)
    value = form.get(name)
    return list(value) if isinstance(value, (list, tuple)) else ([] if value is None else [value])


def _missing(c: dict, empty=None):
    if is_required(c):
        raise _Invalid(_l("%(label)s is required.", label=label_of(c)))
    return empty


def _check_text(c: dict, form, lookups) -> str:
    label, rules = label_of(c), _rules(c)
    raw = _text_of(form, c["key"]).replace("\r\n", "\n").replace("\r", "\n")
    if c["type"] == "textarea":
        value = "\n".join(normalize_persian(line) for line in raw.split("\n")).strip("\n")
    else:
        value = normalize_persian(raw.replace("\n", " "))
    if not value:
        return _missing(c, "")
    low, high = rules.get("minLength"), rules.get("maxLength") or DEFAULT_MAX_LENGTH[c["type"]]
    if isinstance(low, int) and len(value) < low:
        raise _Invalid(_l("%(label)s must be at least %(n)s characters.", label=label, n=_Number(low)))
    if len(value) > high:
        raise _Invalid(_l("%(label)s must be at most %(n)s characters.", label=label, n=_Number(high)))
    if rules.get("pattern") and not re.search(rules["pattern"], value):
        raise _Invalid(_l("%(label)s is not in the expected format.", label=label))
    kind = rules.get("validationType")
    if kind == "email" and not _EMAIL.fullmatch(value):
        raise _Invalid(_l("%(label)s is not a valid email address.", label=label))
    if kind == "phone" and not (_PHONE.fullmatch(value) and 8 <= len(re.sub(r"\D", "", value)) <= 15):
        raise _Invalid(_l("%(label)s is not a valid phone number.", label=label))
    validator = validator_of(c) if c["type"] == "textfield" else None
    return _IDENTIFIERS[validator](value, label) if validator in _IDENTIFIERS else value


def _national_id(value: str, label) -> str:
    if not _IDENTIFIER_CHARS.fullmatch(value) or not is_national_id(value):
        raise _Invalid(_l("%(label)s is not a valid national ID.", label=label))
    return re.sub(r"\D", "", value)


def _legal_id(value: str, label) -> str:
    if not _IDENTIFIER_CHARS.fullmatch(value) or not is_legal_entity_id(value):
        raise _Invalid(_l("%(label)s is not a valid legal entity ID (11 digits).", label=label))
    return re.sub(r"\D", "", value)


def _mobile(value: str, label) -> str:
    mobile = normalize_mobile(value) if _IDENTIFIER_CHARS.fullmatch(value) else None
    if mobile is None:
        raise _Invalid(_l("%(label)s: a mobile number is 11 digits starting with 09.", label=label))
    return mobile


def _postal_code(value: str, label) -> str:
    if not _IDENTIFIER_CHARS.fullmatch(value) or not is_postal_code(value) or len(re.sub(r"\D", "", value)) != 10:
        raise _Invalid(_l("%(label)s: a postal code is 10 digits.", label=label))
    return re.sub(r"\D", "", value)


_IDENTIFIERS = {"nationalId": _national_id, "legalId": _legal_id, "mobile": _mobile, "postalCode": _postal_code}


def _decimal(text: str) -> Decimal | None:
    text = to_ascii_digits(text).replace("٫", ".").replace("\u2212", "-")
    text = re.sub(r"[\s,٬،']", "", text)
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def _bounds(c: dict, number: Decimal, label) -> None:
    rules = _rules(c)
    low, high = rules.get("min"), rules.get("max")
    if c["type"] == RIAL and not _is_number(low):
        low = 0  # an amount is never negative unless the form says so
    if _is_number(low) and number < Decimal(str(low)):
        raise _Invalid(_l("%(label)s must be at least %(min)s.", label=label, min=_Number(low)))
    if _is_number(high) and number > Decimal(str(high)):
        raise _Invalid(_l("%(label)s must be at most %(max)s.", label=label, max=_Number(high)))


def _check_number(c: dict, form, lookups) -> int | float | None:
    label, raw = label_of(c), _text_of(form, c["key"])
    if not raw:
        return _missing(c)
    number = _decimal(raw)
    if number is None:
        raise _Invalid(_l("%(label)s must be a number.", label=label))
    places = c.get("decimalDigits") if isinstance(c.get("decimalDigits"), int) else 0
    if not places and number != number.to_integral_value():
        raise _Invalid(_l("%(label)s must be a whole number.", label=label))
    if places and -number.as_tuple().exponent > places:
        raise _Invalid(_l("%(label)s may have at most %(n)s decimal places.", label=label, n=_Number(places)))
    _bounds(c, number, label)
    return float(number) if places else int(number)


def _check_rial(c: dict, form, lookups) -> int | None:
    label, raw = label_of(c), _text_of(form, c["key"])
    text = re.sub(r"(ریال|IRR|rials?)$", "", to_ascii_digits(raw), flags=re.IGNORECASE)
    text = re.sub(r"[\s,٬،'_]", "", text).replace("\u2212", "-")
    if not text:
        return _missing(c)
    if not re.fullmatch(r"-?\d{1,18}", text):
        raise _Invalid(_l("%(label)s: enter an amount in rials, in digits.", label=label))
    _bounds(c, Decimal(text), label)
    return int(text)


def _check_checkbox(c: dict, form, lookups) -> bool:
    raw = _text_of(form, c["key"]).lower()
    if raw not in _TRUE | _FALSE:
        raise _Invalid(_l("%(label)s: the value sent is not valid.", label=label_of(c)))
    if raw in _FALSE and is_required(c):
        raise _Invalid(_l("%(label)s must be checked.", label=label_of(c)))
    return raw in _TRUE


def _check_checklist(c: dict, form, lookups) -> list[str]:
    chosen = {str(v).strip() for v in _getlist(form, c["key"]) if isinstance(v, str) and v.strip()}
    options = [value for value, _label in options_of(c)]
    if chosen - set(options):
        raise _Invalid(_l("%(label)s: choose only from the options.", label=label_of(c)))
    if not chosen:
        return _missing(c, [])
    return [value for value in options if value in chosen]


def _check_choice(c: dict, form, lookups) -> str | None:
    raw = _text_of(form, c["key"])
    if not raw:
        return _missing(c)
    if raw not in {value for value, _label in options_of(c)}:
        raise _Invalid(_l("%(label)s: choose one of the options.", label=label_of(c)))
    return raw


def _date(c: dict, raw: str) -> str:
    try:
        day = parse_jalali_date(raw)
        if not JALALI_YEARS[0] <= int(to_ascii_digits(raw).strip()[:4]) <= JALALI_YEARS[1]:
            raise InvalidJalaliDate(raw)  # most likely a Gregorian date, e.g. 2025/03/20
    except InvalidJalaliDate:
        raise _Invalid(_l("%(label)s: enter a Jalali date like 1403/12/30.", label=label_of(c))) from None
    if c.get("disallowPassedDates") and day < datetime.now(TEHRAN).date():
        raise _Invalid(_l("%(label)s cannot be a past date.", label=label_of(c)))
    return day.isoformat()


def _time(c: dict, raw: str) -> str:
    match = _TIME.fullmatch(to_ascii_digits(raw).replace("٫", ":").replace(".", ":"))
    if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        raise _Invalid(_l("%(label)s: enter a time like 14:30.", label=label_of(c)))
    return f"{int(match[1]):02d}:{match[2]}"


def _check_datetime(c: dict, form, lookups) -> str | None:
    subtype = c.get("subtype") or "date"
    raw = _text_of(form, c["key"])
    if subtype == "time":
        return _time(c, raw) if raw else _missing(c)
    if subtype == "date":
        return _date(c, raw) if raw else _missing(c)
    clock = _text_of(form, f"{c['key']}.time")
    if not raw and not clock:
        return _missing(c)
    if not raw or not clock:
        raise _Invalid(_l("%(label)s: enter both the date and the time.", label=label_of(c)))
    return f"{_date(c, raw)}T{_time(c, clock)}"


_NOT_FOUND = {
    SUBSCRIBER: lambda label: _l("%(label)s: no subscriber matches what was typed.", label=label),
    CONTRACT: lambda label: _l("%(label)s: no contract matches what was typed.", label=label),
    METER: lambda label: _l("%(label)s: no meter matches what was typed.", label=label),
    TARIFF_TYPE: lambda label: _l("%(label)s: no tariff type matches what was typed.", label=label),
}


def _positive_id(value: str, message) -> int:
    text = to_ascii_digits(value)
    if not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise _Invalid(message)
    return int(text)


class Refused(Exception):
    """Raised by a lookup that refuses what was sent for a reason of its own (a file too large, of a type not
    accepted); its text is shown beside the field, after the field's label."""


def _resolve(c: dict, lookup, value, message):
    try:
        found = lookup(value)
    except Refused as refusal:
        raise _Invalid(_l("%(label)s: %(reason)s", label=label_of(c), reason=str(refusal))) from None
    if found is None or found == "" or isinstance(found, bool):
        raise _Invalid(message)
    return found


def _check_lookup(c: dict, form, lookups) -> int | None:
    raw = normalize_persian(_text_of(form, c["key"]))
    if not raw:
        return _missing(c)
    message = _NOT_FOUND[c["type"]](label_of(c))
    lookup = lookups.get(c["type"])
    return _resolve(c, lookup, raw, message) if lookup else _positive_id(raw, message)


def _check_tariff_type(c: dict, form, lookups) -> str | None:
    if c.get("values"):
        return _check_choice(c, form, lookups)
    raw = normalize_persian(_text_of(form, c["key"]))
    if not raw:
        return _missing(c)
    message = _NOT_FOUND[TARIFF_TYPE](label_of(c))
    lookup = lookups.get(TARIFF_TYPE)
    if lookup:
        return str(_resolve(c, lookup, raw, message))
    if not _TARIFF_CODE.fullmatch(raw):
        raise _Invalid(message)
    return raw


def _document(c: dict, form, files, lookups, uploads: list) -> int | None:
    """A new upload waits in `uploads` for the other fields; an id already given is checked now."""
    upload = files.get(c["key"]) if files is not None else None
    if upload is None and not isinstance(_raw(form, c["key"]), str):
        upload = _raw(form, c["key"])  # a FileStorage passed with the form
    if upload is not None and getattr(upload, "filename", None):
        if DOCUMENT not in lookups:
            raise _Invalid(_l("%(label)s: uploads cannot be received here.", label=label_of(c)))
        uploads.append((c["key"], c, upload))
        return None
    raw = _text_of(form, c["key"])
    if not raw:
        return _missing(c)
    message = _l("%(label)s: no document matches what was sent.", label=label_of(c))
    lookup = lookups.get(DOCUMENT)
    return _resolve(c, lookup, raw, message) if lookup else _positive_id(raw, message)


def _check_map_point(c: dict, form, lookups) -> dict | None:
    label = label_of(c)
    raw = {axis: _text_of(form, f"{c['key']}.{axis}") for axis in ("lat", "lng")}
    if not any(raw.values()):
        return _missing(c)
    numbers = {axis: _decimal(text) if text else None for axis, text in raw.items()}
    if None in numbers.values():
        raise _Invalid(_l("%(label)s: enter the latitude and the longitude as numbers.", label=label))
    for axis, (low, high) in IRAN_BOUNDS.items():
        if not low <= numbers[axis] <= high:
            raise _Invalid(_l("%(label)s: the point is outside Iran.", label=label))
    return {"lat": float(numbers["lat"]), "lng": float(numbers["lng"])}


_CHECKS = {
    "textfield": _check_text, "textarea": _check_text, "number": _check_number, "checkbox": _check_checkbox,
    "checklist": _check_checklist, "radio": _check_choice, "select": _check_choice, "datetime": _check_datetime,
    SUBSCRIBER: _check_lookup, CONTRACT: _check_lookup, METER: _check_lookup, TARIFF_TYPE: _check_tariff_type,
    MAP_POINT: _check_map_point, RIAL: _check_rial,
}
