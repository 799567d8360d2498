"""Errors as problem JSON (RFC 7807, `application/problem+json`), in the caller's language.

The language is the request's `Accept-Language` (Persian or English), Persian when it names neither.
Besides the standard members a problem carries `error` (a stable slug), `code` (the domain error's
code, when there is one) and `errors` ({field: [messages]}) for invalid input.
"""

import json
import re

from flask import Response, has_request_context, request
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from core.errors import DomainError
from core.messages import message_for

PROBLEM_TYPE = "application/problem+json"
LANGUAGES = ("fa", "en")

TITLES = {
    400: _l("Bad request"),
    401: _l("Authentication required"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    415: _l("Unsupported media type"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Internal error"),
}

# marshmallow's own messages, in the caller's language (the ones with numbers are matched below)
_FIELD_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field may not be empty."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid string.": _l("Enter text."),
    "Not a valid boolean.": _l("Enter true or false."),
    "Not a valid date.": _l("Enter a date like 2024-03-20."),
    "Not a valid datetime.": _l("Enter a date and time like 2024-03-20T10:00:00Z."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid list.": _l("Enter a list."),
    "Not a valid mapping type.": _l("Enter an object."),
    "Not a valid URL.": _l("Enter a valid URL."),
    "Invalid input type.": _l("The value has the wrong type."),
    "Invalid value.": _l("The value is not valid."),
    "Unknown field.": _l("Unknown field."),
}
_PATTERNS = [
    (re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\."),
     lambda m: gettext("Enter a value from %(a)s to %(b)s.", a=m[1], b=m[2])),
    (re.compile(r"Must be greater than or equal to (\S+)\."), lambda m: gettext("Enter at least %(a)s.", a=m[1])),
    (re.compile(r"Must be less than or equal to (\S+)\."), lambda m: gettext("Enter at most %(a)s.", a=m[1])),
    (re.compile(r"Length must be between (\d+) and (\d+)\."),
     lambda m: gettext("Enter %(a)s to %(b)s characters.", a=m[1], b=m[2])),
    (re.compile(r"Shorter than minimum length (\d+)\."), lambda m: gettext("Enter at least %(a)s characters.", a=m[1])),
    (re.compile(r"Longer than maximum length (\d+)\."), lambda m: gettext("Enter at most %(a)s characters.", a=m[1])),
    (re.compile(r"Must be one of: (.*)\."), lambda m: gettext("Choose one of: %(a)s.", a=m[1])),
    (re.compile(r"String does not match expected pattern\."), lambda m: gettext("The value has the wrong format.")),
]


def locale() -> str:
    if not has_request_context():
        return "fa"
    return request.accept_languages.best_match(LANGUAGES, default="fa") or "fa"


def problem(status: int, error: str, detail: str = "", *, code: str | None = None, errors: dict | None = None,
            headers: dict | None = None) -> Response:
    with force_locale(locale()):
        body = {"type": f"/api/v1/problems#{error}", "title": str(TITLES.get(status, TITLES[400])),
                "status": status, "detail": str(detail) if detail else str(TITLES.get(status, "")), "error": error,
                "instance": request.path if has_request_context() else ""}
        if code:
            body["code"] = code
        if errors is not None:
            body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    response.headers["Content-Language"] = locale()
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _field_message(text) -> str:
    if not isinstance(text, str):
        return str(text)
    if text in _FIELD_MESSAGES:
        return str(_FIELD_MESSAGES[text])
    for pattern, render in _PATTERNS:
        if match := pattern.fullmatch(text):
            return render(match)
    return text


def _translate(messages):
    if isinstance(messages, dict):
        return {str(k): _translate(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [_translate(m) if isinstance(m, dict | list) else _field_message(m) for m in messages]
    return [_field_message(messages)]


def invalid(error: ValidationError) -> Response:
    with force_locale(locale()):
        errors = _translate(error.messages if isinstance(error.messages, dict) else {"_": error.messages})
        return problem(422, "invalid", gettext("Some fields are not valid."), errors=errors)


def domain(error: DomainError, status: int = 422, slug: str = "invalid") -> Response:
    with force_locale(locale()):
        message = message_for(error)
        return problem(status, slug, message, code=error.code,
                       errors={error.field or "_": [message]} if status == 422 else None)
