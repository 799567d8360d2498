"""Jinja filters: Jalali dates, Persian digits, rial amounts — in the user's language."""

from flask_babel import get_locale

from core.jalali import format_jalali_date, format_jalali_datetime, format_jalali_long
from core.money import format_rials
from core.text import to_persian_digits


def _persian() -> bool:
    locale = get_locale()
    return locale is None or locale.language == "fa"


def jalali_date(value) -> str:
    return format_jalali_date(value, persian_digits=_persian())


def jalali_datetime(value) -> str:
    return format_jalali_datetime(value, persian_digits=_persian())


def jalali_long(value) -> str:
    return format_jalali_long(value)


def digits(value) -> str:
    """Persian digits in Persian; untouched in English."""
    if value is None:
        return ""
    return to_persian_digits(value) if _persian() else str(value)


def rials(value) -> str:
    if value is None:
        return ""
    return format_rials(int(value), persian_digits=_persian(), unit="ریال" if _persian() else "IRR")


def ui_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "fa"


def init(app) -> None:
    app.jinja_env.globals.update(ui_language=ui_language)
    app.jinja_env.filters.update(
        jalali_date=jalali_date,
        jalali_datetime=jalali_datetime,
        jalali_long=jalali_long,
        digits=digits,
        rials=rials,
    )
