"""Persian input normalisation, Persian digits, Jalali dates and rial amounts."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.jalali import (
    InvalidJalaliDate,
    format_jalali_date,
    format_jalali_datetime,
    is_leap_year,
    parse_jalali_date,
    tehran_day_start,
)
from core.money import format_rials
from core.text import digits_only, normalize_persian, to_ascii_digits, to_persian_digits


def test_arabic_yeh_and_kaf_become_persian():
    assert normalize_persian("علي كريمي") == "علی کریمی"
    assert normalize_persian("كاشاني") == "کاشانی"


def test_persian_and_arabic_digits_become_ascii():
    assert normalize_persian("پلاک ۱۲۳ واحد ٤٥") == "پلاک 123 واحد 45"
    assert to_ascii_digits("۰۹۱۲۳۴۵۶۷۸۹") == "09123456789"
    assert digits_only("۰۹۱۲-۳۴۵ ۶۷۸۹") == "09123456789"


def test_spaces_zwnj_and_invisible_marks_are_tidied():
    assert normalize_persian("  می \u200c خواهم   رفت\u0640\u0640ن ") == "می\u200cخواهم رفتن"
    assert normalize_persian("\u200fسلام\u200e") == "سلام"
    assert normalize_persian("مُحَمَّد") == "محمد"


def test_normalisation_is_idempotent_and_keeps_none():
    text = "خيابان  ۱۷ شهريور، كوچه ٣"
    once = normalize_persian(text)
    assert normalize_persian(once) == once
    assert normalize_persian(None) is None


def test_persian_digits_on_display():
    assert to_persian_digits(1403) == "۱۴۰۳"
    assert format_rials(12345000) == "۱۲٬۳۴۵٬۰۰۰ ریال"
    assert format_rials(-1500, persian_digits=False, unit=None) == "-1,500"
    with pytest.raises(TypeError):
        format_rials(12.5)


def test_esfand_30_of_leap_year_1403_round_trips():
    assert is_leap_year(1403)
    gregorian = parse_jalali_date("1403/12/30")
    assert gregorian == date(2025, 3, 20)
    assert format_jalali_date(gregorian) == "۱۴۰۳/۱۲/۳۰"
    assert format_jalali_date(gregorian, persian_digits=False) == "1403/12/30"
    assert parse_jalali_date(format_jalali_date(gregorian)) == gregorian
    assert parse_jalali_date("1403/12/30") + timedelta(days=1) == parse_jalali_date("1404/01/01")


@pytest.mark.parametrize("typed", ["۱۴۰۳/۱۲/۳۰", "١٤٠٣-١٢-٣٠", " 1403.12.30 ", "1403/12/30"])
def test_jalali_dates_are_accepted_in_any_digits_and_separators(typed):
    assert parse_jalali_date(typed) == date(2025, 3, 20)


@pytest.mark.parametrize("typed", ["1404/12/30", "1403/13/01", "1403/01/32", "۱۴۰۳/۱۲", "tomorrow", ""])
def test_impossible_jalali_dates_are_refused(typed):
    assert not is_leap_year(1404)
    with pytest.raises(InvalidJalaliDate):
        parse_jalali_date(typed)


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)))
def test_every_date_round_trips_through_its_jalali_text(value):
    assert parse_jalali_date(format_jalali_date(value)) == value


def test_datetimes_show_in_tehran_time_and_days_start_in_tehran():
    utc_evening = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)  # 00:30 on 1 Farvardin 1404 in Tehran
    assert format_jalali_datetime(utc_evening, persian_digits=False) == "1404/01/01 00:30"
    assert tehran_day_start(date(2025, 3, 21)) == datetime(2025, 3, 20, 20, 30, tzinfo=UTC)
