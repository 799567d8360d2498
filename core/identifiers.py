"""Iranian identifiers, validated on input (see the design guide for the standards)."""

from core.text import digits_only


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


def mod11_check_digit(digits: str) -> int:
    """Weights 2..7 repeating from the rightmost digit; 0 when the remainder is under 2."""
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(digits)))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder
