"""Meter reading checks and estimation (issue 6, requirement 3). Figures worked by hand in the comments."""

from datetime import UTC, date, datetime

import pytest

from billing.readings_check import check_reading, consumption, estimate_consumption

TODAY = date(2025, 6, 1)
APRIL_20, MAY_20 = date(2025, 4, 20), date(2025, 5, 20)  # 30 days apart
USUAL = [240, 260, 250]  # the last periods' consumption per 30 days: average 250


def check(previous, value, digits=5, read_on=MAY_20, previous_on=APRIL_20, history=USUAL):
    return check_reading(previous, value, digits=digits, read_on=read_on, previous_on=previous_on,
                         history=history, today=TODAY)


def test_a_usual_reading_raises_no_flag():
    # 1,450 − 1,200 = 250 in 30 days, the average of the history
    assert check(1200, 1450) == []
    assert consumption(1200, 1450, 5) == 250


def test_high_and_low_against_the_history():
    # 600 > 2 × 250 = 500 → high; 100 < 250 / 2 = 125 → low; 500 and 125 themselves are not flagged
    assert check(1200, 1800) == ["high"]
    assert check(1200, 1300) == ["low"]
    assert check(1200, 1700) == [] and check(1200, 1325) == []


def test_consumption_is_compared_per_30_days():
    # 375 units over 45 days (April 5 → May 20) = 375 × 30 / 45 = 250 a month: usual, not high
    assert check(1000, 1375, previous_on=date(2025, 4, 5)) == []
    # the same 375 units in 15 days = 750 a month: high
    assert check(1000, 1375, previous_on=date(2025, 5, 5)) == ["high"]


def test_zero_consumption():
    assert check(1200, 1200) == ["zero"]


def test_rollover_of_a_4_digit_register():
    # 9,950 → 120 on a 4-digit register: 120 + 10,000 − 9,950 = 170, within twice the usual 250
    assert check(9950, 120, digits=4) == ["rollover"]
    assert consumption(9950, 120, 4) == 170


def test_rollover_without_history_when_the_wrap_is_small():
    # 99,900 → 300 on 5 digits: 400 units, under a tenth of the 100,000 range
    assert check(99_900, 300, history=[]) == ["rollover"]


def test_a_lower_reading_that_is_not_a_rollover_is_negative():
    # 5,000 → 4,000 on 5 digits would be a wrap of 99,000 units: far beyond the usual, so negative
    assert check(5000, 4000) == ["negative"]
    assert check(5000, 4000, history=[]) == ["negative"]  # 99,000 is not under 10,000 either
    # a wrap four times the usual with history is negative too: 9,000 → 1,000 on 4 digits = 2,000 > 500
    assert check(9000, 1000, digits=4) == ["negative"]


def test_impossible_dates():
    assert check(1200, 1450, read_on=date(2025, 4, 10)) == ["date_before_previous"]
    assert check(1200, 1450, read_on=APRIL_20) == ["date_before_previous"]  # the same day is no period
    assert check(1200, 1450, read_on=date(2025, 6, 2)) == ["date_in_future"]


def test_first_reading_of_a_meter():
    assert check(None, 1450, previous_on=None) == []


def test_a_vacant_history_makes_any_consumption_high():
    assert check(1200, 1250, history=[0, 0, 0]) == ["high"]


def test_too_little_history_says_nothing_about_high_or_low():
    assert check(1200, 3200, history=[250, 250]) == []


def test_a_value_the_register_cannot_show_is_an_error():
    with pytest.raises(ValueError):
        check(1200, 100_000, digits=5)
    with pytest.raises(ValueError):
        check(1200, -1)


def test_estimate_from_average_daily_consumption():
    # 300 units in 30 days + 330 in 30 days = 630 / 60 = 10.5 a day; May 20 – June 19 is 31 days:
    # 10.5 × 31 = 325.5 → 326
    history = [(date(2025, 3, 21), date(2025, 4, 19), 300), (date(2025, 4, 20), date(2025, 5, 19), 330)]
    assert estimate_consumption(history, date(2025, 5, 20), date(2025, 6, 19)) == 326
    with pytest.raises(ValueError):
        estimate_consumption([], date(2025, 5, 20), date(2025, 6, 19))


def test_a_reading_of_tehrans_today_is_not_in_the_future_while_the_server_is_still_on_yesterday(monkeypatch):
    """At 00:30 in Tehran the server's UTC clock still shows the day before: the reading taken that morning is
    dated today, and the check compares it with Tehran's day, not the server's."""
    import core.jalali

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 28, 21, 0, tzinfo=UTC).astimezone(tz) if tz else datetime(2026, 11, 28, 21, 0)

    monkeypatch.setattr(core.jalali, "datetime", Clock)
    flags = check_reading(1000, 1100, digits=6, read_on=date(2026, 11, 29), previous_on=date(2026, 10, 30), history=[])
    assert "date_in_future" not in flags
    assert "date_in_future" in check_reading(1000, 1100, digits=6, read_on=date(2026, 11, 30),
                                             previous_on=date(2026, 10, 30), history=[])
