"""Input rules shared by every path into the registry (pages, API, service tasks).

Each function takes what a person typed and returns the stored form, or raises a DomainError whose
`field` names the input at fault. Operations call these; the edges never need their own copies.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from core.errors import DomainError
from core.identifiers import is_legal_entity_id, is_national_id, is_postal_code, normalize_mobile
from core.jalali import tehran_today
from core.text import digits_only, normalize_persian, to_ascii_digits

# Iran's bounding box (mainland and islands), in degrees.
IRAN_LATITUDE = (Decimal("25.0"), Decimal("39.8"))
IRAN_LONGITUDE = (Decimal("44.0"), Decimal("63.4"))

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def required_text(value, field: str, max_length: int = 200) -> str:
    text = normalize_persian(value or "") or ""
    if not text:
        raise DomainError("field.required", field=field)
    return text[:max_length]


def optional_text(value, max_length: int = 200) -> str:
    return (normalize_persian(value or "") or "")[:max_length]


def national_id(value, field: str = "national_id") -> str:
    code = digits_only(value)
    if not str(value or "").strip():
        raise DomainError("field.required", field=field)
    if not is_national_id(code):
        raise DomainError("national_id.invalid", field=field)
    return code


def legal_entity_id(value, field: str = "national_id") -> str:
    code = digits_only(value)
    if not str(value or "").strip():
        raise DomainError("field.required", field=field)
    if not is_legal_entity_id(code):
        raise DomainError("legal_id.invalid", field=field)
    return code


def postal_code(value, field: str = "postal_code") -> str:
    code = digits_only(value)
    if not str(value or "").strip():
        raise DomainError("field.required", field=field)
    if len(code) != 10 or not is_postal_code(code):
        raise DomainError("postal_code.invalid", field=field)
    return code


def mobile(value, field: str = "mobile", required: bool = False) -> str:
    if not (value or "").strip():
        if required:
            raise DomainError("field.required", field=field)
        return ""
    number = normalize_mobile(value)
    if number is None:
        raise DomainError("mobile.invalid", field=field)
    return number


def phone(value, field: str = "phone") -> str:
    number = digits_only(value)
    if value and (len(number) < 8 or len(number) > 11):
        raise DomainError("phone.invalid", field=field)
    return number


def email(value, field: str = "email") -> str:
    text = (value or "").strip().lower()
    if text and (len(text) > 200 or not _EMAIL.match(text)):
        raise DomainError("email.invalid", field=field)
    return text


def digits_code(value, field: str, max_length: int) -> str:
    """An optional all-digits code (economic code, registration number)."""
    code = to_ascii_digits((value or "").strip())
    if code and (not code.isdigit() or len(code) > max_length):
        raise DomainError("digits.invalid", field=field, maximum=max_length)
    return code


def coordinate(value, field: str, bounds: tuple[Decimal, Decimal]) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = Decimal(to_ascii_digits(str(value)).strip().replace("٫", "."))
    except InvalidOperation as exc:
        raise DomainError("coordinates.outside_iran", field=field) from exc
    if not number.is_finite() or not bounds[0] <= number <= bounds[1]:
        raise DomainError("coordinates.outside_iran", field=field)
    return number.quantize(Decimal("0.000001"))


def latitude(value, field: str = "latitude") -> Decimal | None:
    return coordinate(value, field, IRAN_LATITUDE)


def longitude(value, field: str = "longitude") -> Decimal | None:
    return coordinate(value, field, IRAN_LONGITUDE)


def choice(value, allowed, field: str) -> str:
    text = (value or "").strip()
    if text not in {str(a) for a in allowed}:
        raise DomainError("choice.invalid", field=field)
    return text


def past_date(value: date | None, field: str, today: date | None = None) -> date | None:
    if value is not None and value > (today or tehran_today()):
        raise DomainError("date.in_future", field=field)
    return value


def positive_int(value, field: str, required: bool = False) -> int | None:
    if value is None or str(value).strip() == "":
        if required:
            raise DomainError("field.required", field=field)
        return None
    try:
        number = int(to_ascii_digits(str(value)).strip())
    except ValueError as exc:
        raise DomainError("number.invalid", field=field) from exc
    if number <= 0:
        raise DomainError("number.invalid", field=field)
    return number


def readings(values: dict | None, registers: tuple[str, ...], field: str = "readings") -> dict:
    """A reading per register, whole non-negative numbers."""
    values = values or {}
    result = {}
    for register in registers:
        raw = values.get(register)
        if raw is None or str(raw).strip() == "":
            raise DomainError("reading.required", field=f"{field}.{register}")
        try:
            number = int(to_ascii_digits(str(raw)).strip())
        except ValueError as exc:
            raise DomainError("reading.invalid", field=f"{field}.{register}") from exc
        if number < 0:
            raise DomainError("reading.invalid", field=f"{field}.{register}")
        result[register] = number
    return result
