"""Jalali (Solar Hijri) dates: parse what people type, format what people read."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import jdatetime

from core.text import to_ascii_digits, to_persian_digits

TEHRAN = ZoneInfo("Asia/Tehran")

MONTHS_FA = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip

_DATE_RE = re.compile(r"^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*$")


class InvalidJalaliDate(ValueError):
    pass


def to_jalali(value: date) -> jdatetime.date:
    return jdatetime.date.fromgregorian(date=value)


def format_jalali_date(value: date | datetime | None, persian_digits: bool = True) -> str:
    """`1403/12/30`, in Persian digits unless asked otherwise. Datetimes are shown in Tehran time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_tehran(value).date()
    j = to_jalali(value)
    text = f"{j.year:04d}/{j.month:02d}/{j.day:02d}"
    return to_persian_digits(text) if persian_digits else text


def format_jalali_datetime(value: datetime | None, persian_digits: bool = True) -> str:
    if value is None:
        return ""
    local = as_tehran(value)
    text = f"{format_jalali_date(local.date(), persian_digits=False)} {local:%H:%M}"
    return to_persian_digits(text) if persian_digits else text


def format_jalali_long(value: date | None) -> str:
    """`۳۰ اسفند ۱۴۰۳`."""
    if value is None:
        return ""
    j = to_jalali(value)
    return to_persian_digits(f"{j.day} {MONTHS_FA[j.month - 1]} {j.year}")


def parse_jalali_date(text: str) -> date:
    """A Gregorian date from a typed Jalali date: `1403/12/30`, `۱۴۰۳-۱۲-۳۰`, `١٤٠٣.١٢.٣٠`."""
    match = _DATE_RE.match(to_ascii_digits(text or ""))
    if not match:
        raise InvalidJalaliDate(text)
    year, month, day = (int(part) for part in match.groups())
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError as exc:  # Esfand 30 of a common year, month 13, day 32 …
        raise InvalidJalaliDate(text) from exc


def as_tehran(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(TEHRAN)


def tehran_today() -> date:
    """Today's date in Tehran, whatever the server's own time zone: a reading or a date of birth entered at
    00:30 Tehran time is not "in the future" because the server's clock (UTC) is still on the day before."""
    return datetime.now(TEHRAN).date()


def is_leap_year(jalali_year: int) -> bool:
    return jdatetime.date(jalali_year, 1, 1).isleap()


def tehran_day_start(value: date) -> datetime:
    """The UTC instant a calendar day begins in Tehran: where a day's filter starts."""
    return datetime(value.year, value.month, value.day, tzinfo=TEHRAN).astimezone(UTC)
