"""Money is an integer number of rials. Never a float."""

from core.text import to_persian_digits


def format_rials(amount: int | None, persian_digits: bool = True, unit: str | None = "ریال") -> str:
    """`۱۲٬۳۴۵٬۰۰۰ ریال`: thousands separated by the Arabic thousands separator (U+066C)."""
    if amount is None:
        return ""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"rial amounts are integers, got {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    grouped = f"{abs(amount):,}"
    if persian_digits:
        text = sign + to_persian_digits(grouped).replace(",", "٬")
    else:
        text = sign + grouped
    return f"{text} {unit}" if unit else text
