"""Meter readings checked before they are billed, and a broken meter's consumption estimated. Pure."""

from datetime import date
from fractions import Fraction

from core.jalali import tehran_today

FLAGS = ("negative", "rollover", "zero", "high", "low", "date_before_previous", "date_in_future")
HIGH_FACTOR = 2  # more than twice the average of the last 12 periods is "high"
LOW_FACTOR = Fraction(1, 2)  # under half of it is "low"
MIN_HISTORY = 3  # fewer earlier periods say nothing about what is normal
# A reading lower than the previous one is a rollover (the register passed 99…9 and started again)
# when the wrapped consumption is plausible: within HIGH_FACTOR of the usual, or, with no history,
# less than a tenth of the register's range.
ROLLOVER_SHARE_WITHOUT_HISTORY = Fraction(1, 10)


def consumption(previous: int | None, value: int, digits: int) -> int:
    """Units since the previous reading. A reading lower than the previous one can only mean the register
    wrapped past 99…9 (a misread is corrected, not billed), so it counts value + 10**digits − previous;
    check_reading says whether that is plausible ("rollover") or not ("negative")."""
    if previous is None:
        return 0
    return value - previous if value >= previous else value + 10**digits - previous


def check_reading(previous: int | None, value: int, *, digits: int, read_on: date, previous_on: date | None,
                  history: list[int], today: date | None = None) -> list[str]:
    """The flags a new reading raises (empty when it is plausible). `history` holds the consumption of up
    to 12 earlier periods, each per 30 days; the new consumption is compared per 30 days too.
    Each flag needs an override reason before the reading is billed."""
    if not 1 <= digits <= 12 or not 0 <= value < 10**digits:
        raise ValueError(f"a {digits}-digit register reads 0 to {10**digits - 1}, not {value}")
    flags = []
    today = today or tehran_today()
    if read_on > today:
        flags.append("date_in_future")
    if previous_on is not None and read_on <= previous_on:
        flags.append("date_before_previous")
    if previous is None:
        return flags
    used = value - previous
    if used < 0:
        wrapped = value + 10**digits - previous
        if _is_rollover_amount(wrapped, digits, _per_30_days(wrapped, read_on, previous_on), history):
            flags.append("rollover")
            used = wrapped
        else:
            flags.append("negative")
            return flags
    if used == 0:
        flags.append("zero")
        return flags
    recent = history[-12:]
    if len(recent) >= MIN_HISTORY:
        average = Fraction(sum(recent), len(recent))
        monthly = _per_30_days(used, read_on, previous_on)
        if monthly > average * HIGH_FACTOR:
            flags.append("high")
        elif monthly < average * LOW_FACTOR:
            flags.append("low")
    return flags


def estimate_consumption(history: list[tuple[date, date, int]], start: date, end: date) -> int:
    """A broken meter's consumption for start..end (inclusive): the average daily consumption of the
    earlier periods (each start..end inclusive, consumption) times the days, to the nearest unit."""
    days_used = sum((last - first).days + 1 for first, last, _ in history)
    if not history or days_used <= 0:
        raise ValueError("an estimate needs at least one earlier period")
    daily = Fraction(sum(units for _, _, units in history), days_used)
    exact = daily * ((end - start).days + 1)
    return int(exact + Fraction(1, 2))


def _per_30_days(units: int, read_on: date, previous_on: date | None) -> Fraction:
    if previous_on is None or read_on <= previous_on:
        return Fraction(units)
    return Fraction(units * 30, (read_on - previous_on).days)


def _is_rollover_amount(wrapped: int, digits: int, monthly: Fraction, history: list[int]) -> bool:
    recent = history[-12:]
    if len(recent) >= MIN_HISTORY:
        return monthly <= Fraction(sum(recent), len(recent)) * HIGH_FACTOR
    return wrapped < 10**digits * ROLLOVER_SHARE_WITHOUT_HISTORY
