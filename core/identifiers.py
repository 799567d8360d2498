"""Iranian identifiers, validated on input (see the design guide for the standards)."""

import re
from operator import mul

from core.text import digits_only, to_ascii_digits


def is_national_id(value: str | None) -> bool:
    """کد ملی: 10 digits, not all equal, with a mod-11 check digit."""
    code = digits_only(value)
    if len(code) != 10 or len(set(code)) == 1:
        return False
    total = sum(int(code[i]) * (10 - i) for i in range(9))
    remainder = total % 11
    check = remainder if remainder < 2 else 11 - remainder
    return int(code[9]) == check


_LEGAL_WEIGHTS = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)


def is_legal_entity_id(value: str | None) -> bool:
    """شناسه ملی اشخاص حقوقی: 11 digits with a check digit keyed on the tenth."""
    code = digits_only(value)
    if len(code) != 11 or len(set(code)) == 1:
        return False
    k = int(code[9]) + 2
    total = sum((int(code[i]) + k) * _LEGAL_WEIGHTS[i] for i in range(10))
    remainder = total % 11
    return int(code[10]) == (0 if remainder == 10 else remainder)


def normalize_mobile(value: str | None) -> str | None:
    """`09xxxxxxxxx` from any of +98 / 0098 / 98 / 0 prefixes, or None when it is not a mobile."""
    number = digits_only(value)
    for prefix in ("0098", "98"):
        if number.startswith(prefix) and len(number) == len(prefix) + 10:
            number = "0" + number[len(prefix):]
            break
    if len(number) == 10 and number.startswith("9"):
        number = "0" + number
    if len(number) == 11 and number.startswith("09"):
        return number
    return None


def is_postal_code(value: str | None) -> bool:
    """کد پستی: 10 digits (no checksum)."""
    return len(digits_only(value)) == 10 and len(str(value).strip()) >= 10


_MOD11_WEIGHTS = tuple(2 + i % 6 for i in range(64))


def mod11_check_digit(digits: str) -> int:
    """Weights 2..7 repeating from the rightmost digit; 0 when the remainder is under 2."""
    if len(digits) > len(_MOD11_WEIGHTS):
        raise ValueError("too many digits for a check digit")
    total = sum(map(mul, _MOD11_WEIGHTS, map(int, reversed(digits))))  # a billing run calls this millions of times
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


SERVICE_DIGITS = {"water": 1, "electricity": 2, "gas": 3, "telephone": 4}


def make_bill_id(file_code: int | str, company_code: int | str, service_digit: int) -> str:
    """شناسه قبض: file code (up to 8 digits) + company code (3) + service digit + check digit."""
    file_part, company = str(int(file_code)), f"{int(company_code):03d}"
    if len(file_part) > 8 or len(company) != 3 or not 0 <= int(service_digit) <= 9:
        raise ValueError("a bill ID holds a file code of up to 8 digits, a 3-digit company and a service digit")
    body = f"{file_part}{company}{int(service_digit)}"
    return body + str(mod11_check_digit(body))


def is_bill_id(value: str | None) -> bool:
    code = digits_only(value)
    if not 6 <= len(code) <= 13 or code.lstrip("0") != code:
        return False
    return int(code[-1]) == mod11_check_digit(code[:-1])


def make_payment_id(amount_rials: int, jalali_year: int, period: int, bill_id: str) -> str:
    """شناسه پرداخت: amount in thousands + last digit of the Jalali year + period (2) + C1 + C2."""
    if amount_rials < 1000 or amount_rials % 1000:
        raise ValueError("a payment ID encodes a whole number of thousands of rials, at least 1,000")
    if not 0 <= period <= 99:
        raise ValueError("the period is two digits")
    fields = f"{amount_rials // 1000}{jalali_year % 10}{period:02d}"
    c1 = mod11_check_digit(fields)
    c2 = mod11_check_digit(digits_only(bill_id) + fields + str(c1))
    return f"{fields}{c1}{c2}"


def is_payment_id(bill_id: str | None, payment_id: str | None) -> bool:
    """Both check digits of a payment ID, the second one tying it to its bill ID."""
    code, bill = digits_only(payment_id), digits_only(bill_id)
    if len(code) < 6 or len(code) > 13 or code.lstrip("0") != code or not is_bill_id(bill):
        return False
    fields, c1, c2 = code[:-2], int(code[-2]), int(code[-1])
    return c1 == mod11_check_digit(fields) and c2 == mod11_check_digit(bill + fields + str(c1))


def payment_id_amount(payment_id: str) -> int:
    """The amount a payment ID encodes, in rials."""
    code = digits_only(payment_id)
    return int(code[:-5]) * 1000


def bill_barcode(bill_id: str, payment_id: str) -> str:
    """The 26 digits printed as a bill's barcode: both IDs left-padded to 13."""
    return digits_only(bill_id).zfill(13) + digits_only(payment_id).zfill(13)


SERVICE_NAMES = {digit: name for name, digit in SERVICE_DIGITS.items()}


def _typed_digits(value: str | None) -> tuple[str, list[str]]:
    """The digits typed (spaces and dashes between them allowed), and "not_digits" if anything else was."""
    text = to_ascii_digits(str(value or "")).strip()
    problems = [] if re.fullmatch(r"[\d\s\-]*", text) else ["not_digits"]
    return digits_only(text), problems


def describe_bill_id(value: str | None) -> dict:
    """What a bill ID encodes and, under "problems", every reason it is invalid: "not_digits", "length"
    (6 to 13 digits), "leading_zero", "check_digit" (with the digit expected)."""
    code, problems = _typed_digits(value)
    if not 6 <= len(code) <= 13:
        return {"bill_id": code, "problems": [*problems, "length"]}
    if code.startswith("0"):
        problems.append("leading_zero")
    expected = mod11_check_digit(code[:-1])
    if int(code[-1]) != expected:
        problems.append("check_digit")
    service = int(code[-2])
    return {"bill_id": code, "file_code": code[:-5], "company_code": code[-5:-2], "service_digit": service,
            "service": SERVICE_NAMES.get(service, ""), "check_digit": int(code[-1]),
            "expected_check_digit": expected, "problems": problems}


def describe_payment_id(bill_id: str | None, payment_id: str | None) -> dict:
    """What a payment ID encodes — amount (thousands of rials), last digit of the Jalali year, period —
    and every reason it is invalid: "not_digits", "length" (6 to 13), "leading_zero", "c1" (the check digit
    over the payment fields), "c2" (the one over bill ID + payment fields + C1), each with the digit expected.
    C2 is checked against the bill ID as typed, even when that bill ID is itself invalid."""
    code, problems = _typed_digits(payment_id)
    if not 6 <= len(code) <= 13:
        return {"payment_id": code, "problems": [*problems, "length"]}
    if code.startswith("0"):
        problems.append("leading_zero")
    fields, c1, c2 = code[:-2], int(code[-2]), int(code[-1])
    expected_c1 = mod11_check_digit(fields)
    expected_c2 = mod11_check_digit(digits_only(bill_id) + fields + str(c1))
    if c1 != expected_c1:
        problems.append("c1")
    if c2 != expected_c2:
        problems.append("c2")
    thousands = int(code[:-5])
    return {"payment_id": code, "amount_thousands": thousands, "amount_rials": thousands * 1000,
            "year_digit": int(code[-5]), "period": code[-4:-2], "c1": c1, "expected_c1": expected_c1,
            "c2": c2, "expected_c2": expected_c2, "problems": problems}
