"""Properties of the bill calculation and of bill/payment IDs (issue 6), checked with Hypothesis."""

from datetime import date, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from billing.calculation import Usage, quote
from core.identifiers import (
    describe_bill_id,
    describe_payment_id,
    is_bill_id,
    is_payment_id,
    make_bill_id,
    make_payment_id,
)

EFFECTIVE = date(2025, 3, 21)  # 1404/01/01
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def progressive_blocks(draw, max_blocks=5):
    """Bounds rising, rates never falling (Iranian tiers are progressive; see test_monotone below)."""
    n = draw(st.integers(1, max_blocks))
    bounds = sorted(draw(st.sets(st.integers(1, 2000), min_size=n - 1, max_size=n - 1)))
    rates = sorted(draw(st.lists(st.integers(0, 20000), min_size=n, max_size=n)))
    return [{"upto": upto, "rate": rate} for upto, rate in zip([*bounds, None], rates, strict=True)]


@st.composite
def tariffs(draw, time_of_use=False):
    data = {"utility": "electricity", "tariff_type": "1", "code": "P", "blocks": draw(progressive_blocks())}
    if draw(st.booleans()):
        data["variants"] = [{"name": "warm", "zones": ["tropical1"], "months": sorted(draw(
            st.sets(st.integers(1, 12), min_size=1, max_size=6))), "blocks": draw(progressive_blocks())}]
    if draw(st.booleans()):
        data["pattern"] = {"limit": draw(st.integers(0, 1500)), "surcharge_percent": draw(st.integers(0, 100))}
    if time_of_use:
        data["time_of_use"] = {name: str(draw(st.sampled_from(["0.25", "0.5", "1", "1.5", "2"])))
                               for name in ("peak", "mid", "offpeak", "friday_peak")}
    if draw(st.booleans()):
        data["fixed"] = {"default": draw(st.integers(0, 500_000))}
    if draw(st.booleans()):
        data["minimum"] = draw(st.integers(0, 3_000_000))
    if draw(st.booleans()):
        data["sewage_percent"] = draw(st.integers(0, 100))
    if draw(st.booleans()):
        data["hot_season"] = {"months": sorted(draw(st.sets(st.integers(1, 12), min_size=1, max_size=4))),
                              "percent": draw(st.integers(0, 50)), "exempt_upto": draw(st.integers(0, 500))}
    if draw(st.booleans()):
        data["vat"] = {"percent": draw(st.sampled_from([9, 10]))}
    if draw(st.booleans()):
        data["levies"] = [{"name": "electricity", "percent": 3,
                           "base": draw(st.sampled_from([["energy"], ["energy", "surcharge"]]))}]
    discount = draw(st.sampled_from(["", "percent", "free"] if not time_of_use else ["", "percent"]))
    if discount == "percent":
        data["discounts"] = {"d": {"percent": draw(st.integers(1, 100)),
                                   "cap": draw(st.one_of(st.none(), st.integers(0, 2_000_000)))}}
    elif discount == "free":
        data["discounts"] = {"d": {"free_units": draw(st.integers(1, 300))}}
    return data


starts = st.dates(date(2025, 3, 21), date(2027, 3, 20))
days = st.integers(1, 95)
zones = st.sampled_from(["normal", "tropical1"])


def usage(start, length, registers, zone, data, brought_forward=0) -> Usage:
    return Usage(start, start + timedelta(days=length - 1), registers, climate_zone=zone,
                 discount_category="d" if data.get("discounts") else "", brought_forward=brought_forward)


def energy(result) -> int:
    return sum(line.amount for line in result.lines if line.charge_type == "energy")


@FAST
@given(tariffs(), starts, days, zones, st.integers(0, 6000), st.integers(0, 6000))
def test_more_consumption_never_costs_less(data, start, length, zone, a, b):
    """Within one version. This holds for progressive tiers (rates never falling with the block); with a
    falling rate, time-of-use can make extra off-peak units lower the average rate of the peak units."""
    low, high = sorted((a, b))
    cheap = quote([(EFFECTIVE, data)], usage(start, length, {"total": low}, zone, data))
    dear = quote([(EFFECTIVE, data)], usage(start, length, {"total": high}, zone, data))
    assert cheap.charges <= dear.charges
    assert cheap.total <= dear.total
    assert cheap.payable <= dear.payable


@FAST
@given(tariffs(time_of_use=True), starts, days, zones,
       st.lists(st.integers(0, 3000), min_size=4, max_size=4), st.lists(st.integers(0, 500), min_size=4, max_size=4))
def test_more_consumption_on_any_register_never_costs_less(data, start, length, zone, base, extra):
    names = ("peak", "mid", "offpeak", "friday_peak")
    less = dict(zip(names, base, strict=True))
    more = {name: less[name] + added for name, added in zip(names, extra, strict=True)}
    cheap = quote([(EFFECTIVE, data)], usage(start, length, less, zone, data))
    dear = quote([(EFFECTIVE, data)], usage(start, length, more, zone, data))
    assert cheap.total <= dear.total


@FAST
@given(tariffs(), starts, st.integers(2, 95), zones, st.integers(0, 6000), st.data())
def test_a_split_inside_one_version_gives_the_same_energy_charge(data, start, length, zone, consumed, pick):
    """The same tariff published again on a day inside the period makes two segments, each prorated by
    days. Consumption and tier bounds both scale with the days, so each segment's exact charge is its
    share of the whole; lines are rounded as running totals with the energy lines first, so the energy
    charge is the same exact sum rounded once: equal to the rial, no tolerance needed."""
    split = start + timedelta(days=pick.draw(st.integers(1, length - 1)))
    whole = quote([(EFFECTIVE, data)], usage(start, length, {"total": consumed}, zone, data))
    halves = quote([(EFFECTIVE, data), (split, dict(data, code="again"))],
                   usage(start, length, {"total": consumed}, zone, data))
    assert len(halves.segments) in (len(whole.segments), len(whole.segments) + 1)  # +0 on a season boundary
    assert energy(halves) == energy(whole)
    assert halves.charges == whole.charges  # every component is linear in the days, so all charges agree


@FAST
@given(tariffs(), starts, st.integers(2, 95), zones, st.integers(0, 60), st.data())
def test_two_bills_for_the_halves_differ_from_one_by_under_a_rial(data, start, length, zone, per_day, pick):
    """Two separate bills for the two halves of a period (same daily consumption) each round their own
    energy charge once, so together they differ from the single bill's energy by at most one rial:
    |round(x) + round(y) − round(x + y)| ≤ 1."""
    first_days = pick.draw(st.integers(1, length - 1))
    whole = quote([(EFFECTIVE, data)], usage(start, length, {"total": per_day * length}, zone, data))
    first = quote([(EFFECTIVE, data)], usage(start, first_days, {"total": per_day * first_days}, zone, data))
    second = quote([(EFFECTIVE, data)], usage(start + timedelta(days=first_days), length - first_days,
                                              {"total": per_day * (length - first_days)}, zone, data))
    # seasons can make the single bill's segments differ from the halves' (a season boundary is a split too)
    assert abs(energy(first) + energy(second) - energy(whole)) <= 1


@FAST
@given(tariffs(), starts, days, zones, st.integers(0, 6000), st.integers(-3_000_000, 3_000_000))
def test_totals_add_up_and_the_payable_is_whole_thousands(data, start, length, zone, consumed, brought_forward):
    result = quote([(EFFECTIVE, data)], usage(start, length, {"total": consumed}, zone, data, brought_forward))
    taxes = ("vat", "rounding")
    assert result.charges == sum(line.amount for line in result.lines
                                 if line.charge_type not in taxes and not line.charge_type.startswith("levy:"))
    assert result.vat == sum(line.amount for line in result.lines if line.charge_type == "vat")
    assert sum(result.levies.values()) == sum(line.amount for line in result.lines
                                              if line.charge_type.startswith("levy:"))
    assert result.total == result.charges + result.vat + sum(result.levies.values())
    assert result.total == sum(line.amount for line in result.lines if line.code != "rounding")
    assert sum(line.amount for line in result.lines) == result.total - result.rounding
    assert result.payable >= 0 and 0 <= result.rounding < 1000
    # ledger.bills.bill_payable: the payable is always whole thousands (a payment ID encodes thousands); it
    # forgoes at most this bill's own total, so a bill smaller than the odd rials of the balance leaves the
    # rest owed (under 1,000 rials) for the next bill. Nothing is lost: the balance keeps what is not forgone.
    owed = brought_forward + result.total - result.rounding
    assert result.payable % 1000 == 0
    assert result.payable == (0 if owed <= 0 else owed - owed % 1000)
    assert owed <= 0 or 0 <= owed - result.payable < 1000
    booked = result.ledger_lines()
    assert all(amount > 0 for amount in booked.values())
    assert sum(booked.values()) == result.charges


# Bill and payment IDs (the standard in docs/identifiers.md).

files = st.integers(1, 99_999_999)
companies = st.integers(0, 999)
services = st.integers(1, 9)


@given(files, companies, services, st.integers(1, 9_999_999), st.integers(1300, 1499), st.integers(0, 99))
def test_bill_and_payment_ids_round_trip(file_code, company, service, thousands, year, period):
    bill_id = make_bill_id(file_code, company, service)
    payment_id = make_payment_id(thousands * 1000, year, period, bill_id)
    assert is_bill_id(bill_id) and is_payment_id(bill_id, payment_id)
    bill = describe_bill_id(bill_id)
    assert (bill["file_code"], bill["company_code"], bill["service_digit"], bill["problems"]) == (
        str(file_code), f"{company:03d}", service, [])
    payment = describe_payment_id(bill_id, payment_id)
    assert (payment["amount_rials"], payment["year_digit"], payment["period"], payment["problems"]) == (
        thousands * 1000, year % 10, f"{period:02d}", [])


@given(files, companies, services, st.integers(1, 9))
def test_a_bill_id_with_another_check_digit_is_rejected(file_code, company, service, shift):
    bill_id = make_bill_id(file_code, company, service)
    wrong = bill_id[:-1] + str((int(bill_id[-1]) + shift) % 10)
    assert not is_bill_id(wrong)
    assert describe_bill_id(wrong)["problems"] == ["check_digit"]
    assert describe_bill_id(wrong)["expected_check_digit"] == int(bill_id[-1])


@given(files, companies, services, st.integers(1, 999_999), st.integers(1, 9), st.sampled_from(["c1", "c2"]))
def test_a_payment_id_with_another_check_digit_is_rejected(file_code, company, service, thousands, shift, which):
    bill_id = make_bill_id(file_code, company, service)
    payment_id = make_payment_id(thousands * 1000, 1404, 7, bill_id)
    position = -2 if which == "c1" else -1
    digits = list(payment_id)
    digits[position] = str((int(digits[position]) + shift) % 10)
    wrong = "".join(digits)
    assert not is_payment_id(bill_id, wrong)
    problems = describe_payment_id(bill_id, wrong)["problems"]
    # a wrong C1 also breaks C2, which is computed over C1; a wrong C2 leaves C1 right
    assert problems[0] == which and (which == "c1" or problems == ["c2"])


def test_remainders_0_and_1_both_give_check_digit_0():
    # Weights 2,3,4,5,6,7,2,3 from the right.
    # 10030412: 2·2 + 1·3 + 4·4 + 0·5 + 3·6 + 0·7 + 0·2 + 1·3 = 44; 44 mod 11 = 0 → check digit 0
    # 10050412: 2·2 + 1·3 + 4·4 + 0·5 + 5·6 + 0·7 + 0·2 + 1·3 = 56; 56 mod 11 = 1 → check digit 0 (not 1, not 10)
    # 10010412: 4 + 3 + 16 + 0 + 6 + 0 + 0 + 3 = 32; 32 mod 11 = 10 → 11 − 10 = 1
    assert make_bill_id(1003, 41, 2) == "100304120" and is_bill_id("100304120")
    assert make_bill_id(1005, 41, 2) == "100504120" and is_bill_id("100504120")
    assert not is_bill_id("100504121")  # remainder 1 taken as the digit itself
    assert describe_bill_id("100504121")["expected_check_digit"] == 0
    assert make_bill_id(1001, 41, 2) == "100104121"


@given(st.text(alphabet="0123456789", min_size=1, max_size=12))
def test_check_digit_follows_the_standard(body):
    assume(not body.startswith("0"))
    total = sum(int(d) * (2, 3, 4, 5, 6, 7)[i % 6] for i, d in enumerate(reversed(body)))
    expected = 0 if total % 11 in (0, 1) else 11 - total % 11
    if 5 <= len(body) <= 12:
        assert is_bill_id(body + str(expected))
        assert all(not is_bill_id(body + str(d)) for d in range(10) if d != expected)
