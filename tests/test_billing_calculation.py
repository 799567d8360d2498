"""Bill calculation, component by component (issue 6, requirement 2 a–j, and 4). Every expected figure is
worked by hand in the comment above it; the tariffs use round numbers so the arithmetic can be checked.

Dates are Jalali: months 1–6 have 31 days, months 7–11 have 30, so Mehr (7) and Aban (8) 1404 are
clean 30-day months."""

from datetime import date

import pytest

from billing.calculation import Usage, UsageInvalid, quote, usage_from_json
from billing.tariff import TariffInvalid, example_tariffs, parse_tariff, tariff_errors
from core.identifiers import make_bill_id, make_payment_id
from ledger.bills import bill_payable

START = "1404/01/01"  # the tariffs below take effect on 1404/01/01 = 2025-03-21


def tariff(**components) -> dict:
    """Blocks per 30 days: 0–100 at 1,000 rials, 100–200 at 2,000, above 200 at 4,000."""
    return {"utility": "electricity", "tariff_type": "1", "code": "T1",
            "blocks": [{"upto": 100, "rate": 1000}, {"upto": 200, "rate": 2000}, {"upto": None, "rate": 4000}],
            **components}


def bill(tariff_json: dict, start="1404/07/01", end="1404/07/30", versions=None, **usage):
    usage.setdefault("registers", {"total": 250})
    return quote(versions or [(START, tariff_json)], usage_from_json({"start": start, "end": end, **usage}))


def amounts(result, prefix: str = "") -> dict[str, int]:
    """code → amount, summed over segments, for the lines whose code starts with `prefix`."""
    found: dict[str, int] = {}
    for line in result.lines:
        if line.code.startswith(prefix):
            found[line.code] = found.get(line.code, 0) + line.amount
    return found


# a. Blocks (marginal), bounds per 30 days and prorated by days/30.

def test_a_blocks_on_a_30_day_month():
    # 250 kWh in Mehr (30 days): 100 × 1,000 + 100 × 2,000 + 50 × 4,000 = 100,000 + 200,000 + 200,000
    result = bill(tariff())
    assert amounts(result, "energy") == {"energy.tier1": 100_000, "energy.tier2": 200_000, "energy.tier3": 200_000}
    tier3 = next(line for line in result.lines if line.code == "energy.tier3")
    assert (tier3.quantity, tier3.unit, tier3.rate, tier3.charge_type) == ("50", "kWh", "4000", "energy")


def test_a_block_bounds_stretch_over_a_45_day_period():
    # Mehr 1 – Aban 15 = 30 + 15 = 45 days: bounds × 45/30 = 150 and 300 kWh.
    # 250 kWh: 150 × 1,000 + 100 × 2,000 = 150,000 + 200,000 = 350,000 (nothing reaches block 3)
    result = bill(tariff(), end="1404/08/15")
    assert amounts(result, "energy") == {"energy.tier1": 150_000, "energy.tier2": 200_000}
    assert [line.quantity for line in result.lines] == ["150", "100"]


def test_a_block_bounds_shrink_over_a_15_day_period():
    # 15 days: bounds × 15/30 = 50 and 100 kWh. 100 kWh: 50 × 1,000 + 50 × 2,000 = 150,000
    result = bill(tariff(), end="1404/07/15", registers={"total": 100})
    assert amounts(result, "energy") == {"energy.tier1": 50_000, "energy.tier2": 100_000}


# b. Regional variants: a climate zone's own blocks in the months they apply.

TROPICAL = {"variants": [{"name": "tropical1 in Mehr", "zones": ["tropical1"], "months": [7],
                          "blocks": [{"upto": 300, "rate": 1000}, {"upto": None, "rate": 4000}]}]}


def test_b_a_tropical_zone_uses_its_blocks_in_its_months():
    # tropical1 in Mehr: 250 kWh all in the first variant block: 250 × 1,000 = 250,000
    assert sum(amounts(bill(tariff(**TROPICAL), climate_zone="tropical1"), "energy").values()) == 250_000
    # the normal zone keeps the base blocks: 500,000 (as in a.)
    assert sum(amounts(bill(tariff(**TROPICAL), climate_zone="normal"), "energy").values()) == 500_000


def test_b_the_period_is_split_where_the_season_changes():
    # Mehr + Aban = 60 days, 500 kWh, tropical1: prorated by days, 250 kWh in each month.
    # Mehr (variant): 250 × 1,000 = 250,000. Aban (base): 100 × 1,000 + 100 × 2,000 + 50 × 4,000 = 500,000.
    result = bill(tariff(**TROPICAL), end="1404/08/30", registers={"total": 500}, climate_zone="tropical1")
    by_segment: dict[str, int] = {}
    for line in result.lines:
        by_segment[line.segment] = by_segment.get(line.segment, 0) + line.amount
    assert by_segment == {"1404/07/01–1404/07/30": 250_000, "1404/08/01–1404/08/30": 500_000}
    assert [s["variant"] for s in result.segments] == ["tropical1 in Mehr", ""]


# c. Consumption pattern with a surcharge beyond it.

def test_c_surcharge_on_the_energy_charge_beyond_the_pattern():
    # Pattern 200 kWh, 50 %: the 50 kWh beyond it cost 50 × 4,000 = 200,000 → surcharge 100,000
    result = bill(tariff(pattern={"limit": 200, "surcharge_percent": 50}))
    surcharge = next(line for line in result.lines if line.code == "pattern_surcharge")
    assert (surcharge.amount, surcharge.quantity, surcharge.rate, surcharge.charge_type) == (
        100_000, "50", "50%", "surcharge")


def test_c_pattern_inside_a_block():
    # Pattern 150: E(250) − E(150) = 500,000 − (100,000 + 50 × 2,000) = 300,000 → 50 % = 150,000
    result = bill(tariff(pattern={"limit": 150, "surcharge_percent": 50}))
    assert amounts(result, "pattern") == {"pattern_surcharge": 150_000}
    # at or under the pattern there is no surcharge line
    assert amounts(bill(tariff(pattern={"limit": 250, "surcharge_percent": 50})), "pattern") == {}


# d. Time-of-use registers: tiers on the total, the charge split pro rata with each register's coefficient.

def test_d_time_of_use_registers():
    # peak 50 + mid 150 + off-peak 50 = 250 kWh → tier charge 500,000, average 2,000 rials/kWh.
    # peak 50 × 2,000 × 2 = 200,000; mid 150 × 2,000 × 1 = 300,000; off-peak 50 × 2,000 × 0.5 = 50,000
    result = bill(tariff(time_of_use={"peak": "2", "mid": "1", "offpeak": "0.5"}),
                  registers={"peak": 50, "mid": 150, "offpeak": 50})
    assert amounts(result, "tou") == {"tou.peak": 200_000, "tou.mid": 300_000, "tou.offpeak": 50_000}
    assert [line.rate for line in result.lines if line.code.startswith("tou")] == ["4000", "2000", "1000"]


def test_d_friday_peak_register():
    # 100 kWh (all in block 1, average 1,000): peak 40 × 1,000 × 2 = 80,000; friday_peak 60 × 1,000 × 1.5 = 90,000
    result = bill(tariff(time_of_use={"peak": "2", "friday_peak": "1.5"}), registers={"peak": 40, "friday_peak": 60})
    assert amounts(result, "tou") == {"tou.peak": 80_000, "tou.friday_peak": 90_000}


def test_d_a_register_the_tariff_does_not_price_is_refused():
    with pytest.raises(UsageInvalid) as refused:
        bill(tariff(time_of_use={"peak": "2", "mid": "1"}), registers={"peak": 10, "offpeak": 5})
    assert [e["field"] for e in refused.value.errors] == ["registers.offpeak"]


# e. Fixed monthly charge by capacity class; demand charges.

def test_e_fixed_charge_by_capacity_prorated():
    # 1phase_25A: 60,000 per 30 days × 45/30 = 90,000; 45 days at 2,000 a day
    fixed = {"1phase_25A": 60000, "default": 30000}
    result = bill(tariff(fixed=fixed), end="1404/08/15", capacity_class="1phase_25A")
    line = next(line for line in result.lines if line.code == "fixed")
    assert (line.amount, line.quantity, line.unit, line.rate) == (90_000, "45", "day", "2000")
    # a class the tariff does not name pays the default: 30,000 for 30 days
    assert amounts(bill(tariff(fixed=fixed), capacity_class="3phase_32A"), "fixed") == {"fixed": 30_000}
    with pytest.raises(UsageInvalid):
        bill(tariff(fixed={"1phase_25A": 60000}), capacity_class="3phase_32A")


def test_e_demand_contracted_and_excess():
    # contracted 100 kW × 50,000 = 5,000,000; measured 120 kW: excess 20 kW × 100,000 = 2,000,000
    result = bill(tariff(demand={"contracted_rate": 50000, "excess_rate": 100000}),
                  demand={"contracted": 100, "measured": 120})
    assert amounts(result, "demand") == {"demand.contracted": 5_000_000, "demand.excess": 2_000_000}
    # within the contract: no excess line
    assert amounts(bill(tariff(demand={"contracted_rate": 50000, "excess_rate": 100000}),
                        demand={"contracted": 100, "measured": 90}), "demand") == {"demand.contracted": 5_000_000}
    with pytest.raises(UsageInvalid):  # a demand tariff needs the kilowatts
        bill(tariff(demand={"contracted_rate": 50000}))


# f. Minimum charge.

def test_f_minimum_charge_tops_up_a_small_bill():
    # 100 kWh → 100,000; fixed 30,000; minimum 600,000 → minimum line 600,000 − 130,000 = 470,000
    result = bill(tariff(minimum=600000, fixed={"default": 30000}), registers={"total": 100})
    assert amounts(result, "minimum") == {"minimum": 470_000}
    assert result.charges == 600_000
    # 250 kWh → 500,000 + 30,000 ≥ a 500,000 minimum: no line
    assert amounts(bill(tariff(minimum=500000, fixed={"default": 30000})), "minimum") == {}


# g. Water: sewage, hot-season surcharge with an exemption, zone coefficients.

WATER = {"utility": "water", "tariff_type": "1", "code": "W1",
         "blocks": [{"upto": 10, "rate": 5000}, {"upto": None, "rate": 10000}],
         "sewage_percent": 70, "hot_season": {"months": [4], "percent": 20, "exempt_upto": 15},
         "zone_coefficients": {"zone1": "1.2"}}


def test_g_water_sewage_and_hot_season():
    # Tir 1–30 (30 days), 20 m³: water 10 × 5,000 + 10 × 10,000 = 150,000;
    # hot season (20 > 15 m³): 20 % × 150,000 = 30,000; sewage 70 % × 150,000 = 105,000
    result = bill(WATER, start="1404/04/01", end="1404/04/30", registers={"total": 20})
    assert amounts(result) == {"energy.tier1": 50_000, "energy.tier2": 100_000, "hot_season": 30_000,
                               "sewage": 105_000}
    assert next(line.unit for line in result.lines if line.code == "energy.tier1") == "m³"


def test_g_hot_season_exemption_and_other_months():
    # 12 m³ ≤ 15: no surcharge; water 10 × 5,000 + 2 × 10,000 = 70,000; sewage 49,000
    assert amounts(bill(WATER, start="1404/04/01", end="1404/04/30", registers={"total": 12})) == {
        "energy.tier1": 50_000, "energy.tier2": 20_000, "sewage": 49_000}
    # Mehr is not a hot month: 20 m³ pays no surcharge
    assert "hot_season" not in amounts(bill(WATER, registers={"total": 20}))


def test_g_zone_coefficient():
    # zone1 × 1.2: rates 6,000 and 12,000 → 60,000 + 120,000 = 180,000; sewage 70 % = 126,000
    result = bill(WATER, registers={"total": 20}, climate_zone="zone1")
    assert amounts(result) == {"energy.tier1": 60_000, "energy.tier2": 120_000, "sewage": 126_000}


# h. VAT and levies on their bases; j. rounding.

TAXED = {"fixed": {"default": 30000}, "vat": {"percent": 10},
         "levies": [{"name": "electricity", "label": "عوارض برق", "percent": 3, "base": ["energy"]}]}


def test_h_vat_and_levy_lines():
    # energy 500,000 + fixed 30,000 = 530,000; VAT 10 % = 53,000; levy 3 % of energy = 15,000;
    # total 598,000, already a multiple of 1,000: no rounding line
    result = bill(tariff(**TAXED))
    assert (result.charges, result.vat, result.levies, result.total, result.payable, result.rounding) == (
        530_000, 53_000, {"electricity": 15_000}, 598_000, 598_000, 0)
    vat = next(line for line in result.lines if line.code == "vat")
    assert (vat.quantity, vat.rate, vat.charge_type) == ("530000", "10%", "vat")
    levy = next(line for line in result.lines if line.code == "levy.electricity")
    assert (levy.label, levy.quantity, levy.charge_type) == ("عوارض برق", "500000", "levy:electricity")
    assert "rounding" not in amounts(result)


def test_j_rounding_floors_the_payable_to_1000_rials():
    # 251 kWh: energy 504,000; fixed 30,000 → 534,000; VAT 53,400; levy 3 % × 504,000 = 15,120;
    # total 602,520 → payable 602,000, the 520 rials a line of their own
    result = bill(tariff(**TAXED), registers={"total": 251})
    assert (result.total, result.payable, result.rounding) == (602_520, 602_000, 520)
    assert amounts(result, "rounding") == {"rounding": -520}
    assert bill_payable(0, 602_520) == (602_000, 520)


def test_j_rounding_with_a_balance_brought_forward():
    # 1,250 owed + 602,520 = 603,770 → payable 603,000, rounding 770
    result = bill(tariff(**TAXED), registers={"total": 251}, brought_forward=1250)
    assert (result.payable, result.rounding) == (603_000, 770)
    # a credit larger than the bill: nothing to pay, nothing forgone
    credit = bill(tariff(**TAXED), registers={"total": 251}, brought_forward=-700_000)
    assert (credit.payable, credit.rounding) == (0, 0)


def test_h_a_vat_change_inside_the_period_gives_a_line_per_rate():
    # 1,000 rials/kWh flat; VAT 9 % until Mehr 15, 10 % from Mehr 16. 300 kWh over Mehr (30 days):
    # 150,000 in each half → VAT 9 % × 150,000 = 13,500 and 10 % × 150,000 = 15,000
    flat = tariff(blocks=[{"upto": None, "rate": 1000}], vat={"percent": 9})
    result = bill(None, registers={"total": 300},
                  versions=[(START, flat), ("1404/07/16", dict(flat, vat={"percent": 10}))])
    assert [(line.segment, line.rate, line.amount) for line in result.lines if line.code == "vat"] == [
        ("1404/07/01–1404/07/15", "9%", 13_500), ("1404/07/16–1404/07/30", "10%", 15_000)]
    assert result.vat == 28_500


# i. Discounts for special categories, with a validity period.

DISCOUNTS = {"discounts": {
    "half": {"label": "نیم‌بها", "percent": 50, "cap": 100000},
    "half_uncapped": {"label": "نیم‌بها", "percent": 50},
    "free100": {"label": "۱۰۰ کیلووات رایگان", "free_units": 100},
    "free100_until_mid_mehr": {"label": "موقت", "free_units": 100, "valid_to": "1404/07/15"},
}}


def test_i_percentage_discount_with_a_cap():
    # energy 500,000 × 50 % = 250,000, capped at 100,000 per 30 days
    assert amounts(bill(tariff(**DISCOUNTS), discount_category="half"), "discount") == {"discount": -100_000}
    assert amounts(bill(tariff(**DISCOUNTS), discount_category="half_uncapped"), "discount") == {
        "discount": -250_000}
    # 45 days: cap 100,000 × 45/30 = 150,000; energy 350,000 (as in a.) × 50 % = 175,000 → 150,000
    assert amounts(bill(tariff(**DISCOUNTS), end="1404/08/15", discount_category="half"), "discount") == {
        "discount": -150_000}


def test_i_first_units_free():
    # the first 100 kWh cost 100 × 1,000 = 100,000
    result = bill(tariff(**DISCOUNTS), discount_category="free100")
    assert amounts(result, "discount") == {"discount": -100_000}
    assert result.charges == 400_000
    assert result.ledger_lines() == {"energy": 400_000}  # the discount is netted into the energy it reduces


def test_i_discount_only_within_its_validity():
    # valid Mehr 1–15 of a 30-day Mehr bill: 100,000 × 15/30 = 50,000
    assert amounts(bill(tariff(**DISCOUNTS), discount_category="free100_until_mid_mehr"), "discount") == {
        "discount": -50_000}
    # a bill in Aban is past it
    assert amounts(bill(tariff(**DISCOUNTS), start="1404/08/01", end="1404/08/30",
                        discount_category="free100_until_mid_mehr"), "discount") == {}


def test_i_the_minimum_applies_after_the_discount():
    # energy 500,000 − 50 % = 250,000 net, under the 600,000 minimum → minimum line 350,000; charges 600,000
    result = bill(tariff(minimum=600000, **DISCOUNTS), discount_category="half_uncapped")
    assert amounts(result, "discount") == {"discount": -250_000}
    assert amounts(result, "minimum") == {"minimum": 350_000}
    assert result.charges == 600_000
    assert result.ledger_lines() == {"energy": 250_000, "minimum": 350_000}


def test_i_a_category_the_tariff_does_not_know_is_refused():
    with pytest.raises(UsageInvalid) as refused:
        bill(tariff(**DISCOUNTS), discount_category="veterans")
    assert refused.value.errors[0]["field"] == "discount_category"


# 4. Segments at tariff version changes, prorated by days.

def test_a_new_version_splits_the_period():
    # One block per version: 1,000 rials/kWh until Mehr 15, 2,000 from Mehr 16. 300 kWh over 30 days:
    # 150 kWh × 1,000 = 150,000 and 150 kWh × 2,000 = 300,000
    old = tariff(blocks=[{"upto": None, "rate": 1000}])
    new = tariff(blocks=[{"upto": None, "rate": 2000}])
    result = bill(None, registers={"total": 300}, versions=[("1404/07/16", new), (START, old)])
    assert [(line.segment, line.quantity, line.amount) for line in result.lines] == [
        ("1404/07/01–1404/07/15", "150", 150_000), ("1404/07/16–1404/07/30", "150", 300_000)]
    assert [s["effective_from"] for s in result.segments] == ["2025-03-21", "2025-10-08"]


def test_proration_rounds_running_totals_so_lines_add_up():
    # 31-day Ordibehesht split by a version on day 11 (10 + 21 days), 100 kWh at 1,000 flat:
    # 100 × 10/31 = 32.258… kWh → 32,258.06 rials; 100 × 21/31 → 67,741.94; the two sum to exactly 100,000,
    # and the lines are the rounded running totals: 32,258 and 100,000 − 32,258 = 67,742.
    flat = tariff(blocks=[{"upto": None, "rate": 1000}])
    result = bill(None, start="1404/02/01", end="1404/02/31", registers={"total": 100},
                  versions=[(START, flat), ("1404/02/11", dict(flat, code="T2"))])
    assert [line.amount for line in result.lines] == [32_258, 67_742]


def test_no_version_in_force_at_the_start_is_refused():
    with pytest.raises(UsageInvalid) as refused:
        bill(None, start="1403/12/20", versions=[(START, tariff())])
    assert refused.value.errors[0]["field"] == "start"


# The whole bill: totals, ledger lines, bill and payment IDs.

def test_quote_json_and_ledger_lines_feed_the_ledger():
    result = bill(tariff(**TAXED, **DISCOUNTS), registers={"total": 251}, discount_category="free100")
    # energy 504,000 − 100,000 free; fixed 30,000 → charges 434,000; VAT 43,400; levy 3 % × 504,000 = 15,120
    # (the levy's base is the energy lines; the discount is its own line); total 492,520 → 492,000
    assert (result.charges, result.vat, result.levies["electricity"], result.total, result.payable) == (
        434_000, 43_400, 15_120, 492_520, 492_000)
    assert result.ledger_lines() == {"energy": 404_000, "fixed": 30_000}
    data = result.to_json()
    assert data["payable"] == 492_000 and data["lines"][-1]["code"] == "rounding"
    bill_id = make_bill_id(1234567, 41, 2)
    payment_id = make_payment_id(result.payable, 1404, 7, bill_id)
    assert payment_id.startswith("492407")


def test_usage_as_a_dataclass_needs_no_json():
    result = quote([(date(2025, 3, 21), tariff())], Usage(date(2025, 9, 23), date(2025, 10, 22), {"total": 250}))
    assert result.charges == 500_000  # Mehr 1404 is 2025-09-23 .. 2025-10-22


# Tariffs as JSON: every problem named by its field.

def test_tariff_errors_name_every_field():
    errors = tariff_errors({"utility": "steam", "tariff_type": "", "bloks": [],
                            "blocks": [{"upto": 100, "rate": -1}, {"upto": 50, "rate": 2}, {"upto": 300, "rate": 3}],
                            "vat": {"percent": 120}, "discounts": {"x": {"percent": 10, "free_units": 5}}})
    assert [e["field"] for e in errors] == ["bloks", "utility", "tariff_type", "blocks[0].rate", "blocks[1].upto",
                                            "blocks[2].upto", "discounts.x", "vat.percent"]
    with pytest.raises(TariffInvalid):
        parse_tariff({"utility": "water"})


def test_tariff_errors_are_in_persian(app_ctx):
    errors = tariff_errors({"utility": "electricity", "tariff_type": "1", "blocks": [{"upto": 10, "rate": "x"}]})
    assert errors == [{"field": "blocks[0].rate", "message": "یک عدد وارد کنید."},
                      {"field": "blocks[0].upto", "message": "پلهٔ آخر باید بی‌سقف باشد (upto: null)."}]


def test_usage_errors_name_every_field():
    with pytest.raises(UsageInvalid) as refused:
        usage_from_json({"start": "1404/13/01", "end": "2025-01-01", "registers": {"total": -3, "reactive": 5},
                         "demand": {"contracted": "many"}, "brought_forward": 1.5})
    assert [e["field"] for e in refused.value.errors] == [
        "start", "registers.total", "registers.reactive", "demand.contracted", "brought_forward"]


def test_every_example_tariff_is_valid_and_quotes():
    examples = example_tariffs()
    assert {t["code"] for t in examples} >= {"E1-normal", "E1-tropical", "E5-commercial", "E3-agricultural",
                                             "E4-industrial", "W1-residential", "G1-residential"}
    for data in examples:
        assert data["example"] is True and tariff_errors(data) == [], data["code"]
        usage = {"registers": {"peak": 900, "mid": 2500, "offpeak": 1300}} if data["tariff_type"] in ("3", "4") \
            else {"registers": {"total": 240}}
        if data.get("demand"):
            usage["demand"] = {"contracted": 150, "measured": 170}
        zone = {"gas": "climate2", "water": "zone1"}.get(data["utility"], "tropical2")
        result = bill(data, start="1404/09/01", end="1404/09/30", climate_zone=zone, **usage)
        assert result.payable > 0 and result.payable % 1000 == 0


def example(code: str) -> dict:
    return next(t for t in example_tariffs() if t["code"] == code)


def test_example_tropical_tariff_in_summer():
    # tropical1 in Tir (30 days: Tir 1–30), 2,500 kWh on its warm-month blocks:
    # 2,000 × 400 = 800,000; 500 × 1,000 = 500,000 → 1,300,000; under the 4,000 kWh pattern: no surcharge
    result = bill(example("E1-tropical"), start="1404/04/01", end="1404/04/30", registers={"total": 2500},
                  climate_zone="tropical1")
    assert amounts(result, "energy") == {"energy.tier1": 800_000, "energy.tier2": 500_000}
    assert "pattern_surcharge" not in amounts(result)
    # the same consumption in the normal zone climbs all seven blocks: 100 × 400 + 100 × 470 + 100 × 1,000
    # + 100 × 1,800 + 100 × 2,100 + 100 × 3,700 + 1,900 × 4,600 = 40,000 + 47,000 + 100,000 + 180,000
    # + 210,000 + 370,000 + 8,740,000 = 9,687,000
    normal = bill(example("E1-tropical"), start="1404/04/01", end="1404/04/30", registers={"total": 2500})
    assert sum(amounts(normal, "energy").values()) == 9_687_000


def test_example_gas_tariff_by_climate_in_winter():
    # Dey (30 days), 900 m³. climate1 (coldest): 600 × 1,500 + 300 × 2,600 = 900,000 + 780,000 = 1,680,000;
    # under its 1,000 m³ pattern
    cold = bill(example("G1-residential"), start="1404/10/01", end="1404/10/30", registers={"total": 900},
                climate_zone="climate1", capacity_class="G4")
    assert sum(amounts(cold, "energy").values()) == 1_680_000 and "pattern_surcharge" not in amounts(cold)
    # climate5 (warmest): 150 × 1,500 + 100 × 2,600 + 150 × 5,200 + 500 × 11,000
    # = 225,000 + 260,000 + 780,000 + 5,500,000 = 6,765,000; pattern 250: E(900) − E(250) = 6,765,000 − 485,000
    # = 6,280,000 × 25 % = 1,570,000
    warm = bill(example("G1-residential"), start="1404/10/01", end="1404/10/30", registers={"total": 900},
                climate_zone="climate5", capacity_class="G4")
    assert sum(amounts(warm, "energy").values()) == 6_765_000
    assert amounts(warm, "pattern") == {"pattern_surcharge": 1_570_000}


def test_j_a_bill_smaller_than_the_odd_rials_brought_forward_still_asks_whole_thousands():
    # 1,234,567 owed (a fee of odd rials) + a 300-rial bill = 1,234,867: the bill forgoes its own 300 rials at
    # most, the payable is 1,234,000 and 567 rials stay owed for the next bill — none lost, none invented
    assert bill_payable(1_234_567, 300) == (1_234_000, 300)
    assert bill_payable(1_234_567, 5_000) == (1_239_000, 567)
    assert bill_payable(-2_000, 1_500) == (0, 0)
