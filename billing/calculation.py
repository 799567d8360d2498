"""A bill calculated line by line, to the rial, from tariff versions and one period's usage. Pure: JSON
and dataclasses in, a Quote out; no database. How each component works: docs/tariffs.md."""

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from functools import cached_property, lru_cache

import jdatetime
from flask_babel import gettext

from billing.tariff import (
    REGISTERS,
    TOU_REGISTERS,
    UTILITY_CLIMATE_ZONES,
    Block,
    Tariff,
    TariffInvalid,
    Variant,
    parse_date,
    parse_tariff,
    to_fraction,
)
from core.errors import DomainError
from core.jalali import format_jalali_date, to_jalali
from ledger.bills import bill_payable

MONTH = 30  # tier bounds, fixed charges and minimums are per 30 days


class UsageInvalid(DomainError):
    """errors = [{"field": "registers.peak", "message": "<in the user's language>"}]."""

    def __init__(self, errors: list[dict]):
        super().__init__("billing.usage_invalid", field=errors[0]["field"] if errors else None, errors=errors)
        self.errors = errors

    def __str__(self):
        return "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)


@dataclass(frozen=True)
class Usage:
    start: date  # the day after the last billed reading
    end: date  # the day of the new reading (inclusive)
    registers: dict[str, int]  # consumption per register for the period
    climate_zone: str = "normal"
    capacity_class: str = ""
    demand: dict | None = None  # {"contracted": kW, "measured": kW}
    discount_category: str = ""
    brought_forward: int = 0  # debt +, credit -

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Line:
    code: str
    label: str
    quantity: str
    unit: str
    rate: str
    amount: int
    charge_type: str
    segment: str = ""


@dataclass(frozen=True)
class Quote:
    lines: list[Line]
    charges: int
    vat: int
    levies: dict[str, int]
    total: int
    brought_forward: int
    rounding: int
    payable: int
    segments: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"lines": [asdict(line) for line in self.lines], "charges": self.charges, "vat": self.vat,
                "levies": dict(self.levies), "total": self.total, "brought_forward": self.brought_forward,
                "rounding": self.rounding, "payable": self.payable, "segments": list(self.segments)}

    def ledger_lines(self) -> dict[str, int]:
        """charge type → net amount for ledger.bills.post_bill; discounts are taken off the charges they
        reduce (energy first), so every amount is ≥ 0."""
        amounts: dict[str, int] = defaultdict(int)
        discount = 0
        for line in self.lines:
            if line.charge_type == "discount":
                discount -= line.amount
            elif line.charge_type not in ("vat", "rounding") and not line.charge_type.startswith("levy:"):
                amounts[line.charge_type] += line.amount
        for kind in ("energy", "surcharge", "sewage", "fixed", "demand", "minimum"):
            taken = min(discount, amounts.get(kind, 0))
            if taken > 0:
                amounts[kind] -= taken
                discount -= taken
        return {kind: amount for kind, amount in amounts.items() if amount}


@dataclass(frozen=True)
class Segment:
    """Days of the period under one tariff version and one season (one variant / hot-season state)."""
    start: date
    end: date
    effective_from: date
    tariff: Tariff
    variant: Variant | None
    hot: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @cached_property
    def label(self) -> str:
        return f"{format_jalali_date(self.start, False)}–{format_jalali_date(self.end, False)}"


@dataclass
class _Draft:
    """A line whose amount is still exact; amounts are rounded to the rial once all segments are known."""
    code: str
    label: str
    quantity: Fraction | None
    unit: str
    rate: str
    exact: Fraction
    charge_type: str
    segment: str


def usage_from_json(data) -> Usage:
    """The usage in `data` (see docs/tariffs.md), or UsageInvalid naming every bad field."""
    errors = []

    def error(name, message):
        errors.append({"field": name, "message": message})

    if not isinstance(data, dict):
        raise UsageInvalid([{"field": "", "message": gettext("The usage is a JSON object.")}])
    dates = {}
    for key in ("start", "end"):
        try:
            dates[key] = parse_date(data.get(key))
        except ValueError:
            error(key, gettext("Enter a date like 2025-03-21 or 1404/01/01."))
    if len(dates) == 2 and dates["end"] < dates["start"]:
        error("end", gettext("The period ends before it starts."))
    registers = {}
    raw_registers = data.get("registers")
    if not isinstance(raw_registers, dict) or not raw_registers:
        error("registers", gettext("Give the consumption of at least one register, e.g. {\"total\": 250}."))
    else:
        for name, value in raw_registers.items():
            if name not in REGISTERS:
                error(f"registers.{name}", gettext("Unknown register; allowed: %(names)s.", names=", ".join(REGISTERS)))
                continue
            try:
                number = to_fraction(value)
            except ValueError:
                number = None
            if number is None or number < 0 or number.denominator != 1:
                error(f"registers.{name}", gettext("Enter a whole number of units, zero or more."))
                continue
            registers[name] = int(number)
        if "total" in registers and len(registers) > 1:
            error("registers", gettext("Give either the total or the time-of-use registers, not both."))
    demand = data.get("demand")
    if demand is not None:
        if not isinstance(demand, dict):
            error("demand", gettext("Give the demand as {\"contracted\": kW, \"measured\": kW}."))
            demand = None
        else:
            for key in ("contracted", "measured"):
                try:
                    if to_fraction(demand.get(key, 0)) < 0:
                        raise ValueError(key)
                except ValueError:
                    error(f"demand.{key}", gettext("Enter a number of kilowatts, zero or more."))
    brought_forward = data.get("brought_forward", 0)
    try:
        brought_forward_number = to_fraction(brought_forward)
        if brought_forward_number.denominator != 1:
            raise ValueError(brought_forward)
    except ValueError:
        error("brought_forward", gettext("Enter a whole number of rials."))
        brought_forward_number = Fraction(0)
    texts = {}
    for key, default in (("climate_zone", "normal"), ("capacity_class", ""), ("discount_category", "")):
        value = data.get(key) or default
        if not isinstance(value, str):
            error(key, gettext("Write this as text."))
            value = default
        texts[key] = value.strip()
    if errors:
        raise UsageInvalid(errors)
    return Usage(start=dates["start"], end=dates["end"], registers=registers, demand=demand,
                 brought_forward=int(brought_forward_number), **texts)


def quote(versions: list[tuple[date, dict]], usage: Usage) -> Quote:
    """The bill for `usage` under the tariff `versions` ((effective_from, tariff JSON), any order)."""
    timeline = _parse_versions(versions)
    _check_usage(usage, timeline)
    segments = split_segments(timeline, usage)
    drafts = [draft for segment in segments for draft in _segment_drafts(segment, usage)]
    if usage.discount_category and not any(usage.discount_category in s.tariff.discounts for s in segments):
        raise UsageInvalid([{"field": "discount_category", "message": gettext(
            "The tariff has no discount for the category %(category)s.", category=usage.discount_category)}])
    lines = _rounded(drafts)
    tax_lines = _tax_lines(segments, lines)
    charges = sum(line.amount for line in lines)
    vat = sum(line.amount for line in tax_lines if line.charge_type == "vat")
    levies: dict[str, int] = {}
    for line in tax_lines:
        if line.charge_type.startswith("levy:"):
            name = line.charge_type.split(":", 1)[1]
            levies[name] = levies.get(name, 0) + line.amount
    total = charges + vat + sum(levies.values())
    payable, rounding = bill_payable(usage.brought_forward, total)
    lines = lines + tax_lines
    if rounding:
        lines.append(Line("rounding", gettext("Rounding (rials under 1,000)"), "", "", "", -rounding, "rounding"))
    return Quote(lines=lines, charges=charges, vat=vat, levies=levies, total=total,
                 brought_forward=usage.brought_forward, rounding=rounding, payable=payable,
                 segments=[segment_json(s) for s in segments])


def segment_json(segment: "Segment") -> dict:
    return {"label": segment.label, "start": segment.start.isoformat(), "end": segment.end.isoformat(),
            "days": segment.days, "effective_from": segment.effective_from.isoformat(), "tariff": segment.tariff.code,
            "variant": segment.variant.name if segment.variant else "", "hot_season": segment.hot}


def timeline_of(versions: list[tuple[date, dict]]) -> list[tuple[date, "Tariff"]]:
    """The versions parsed and in order, as `quote` reads them (for a caller quoting many usages)."""
    return _parse_versions(versions)


def price_shape(segments: list["Segment"], usage: Usage) -> tuple:
    """What a quote's amounts depend on in the usage's dates: each segment's length, version, variant and
    season — or the dates themselves when a discount of the usage's category has validity dates. Two usages
    with the same shape and the same registers, zone, class, demand and category get the same lines and
    amounts; only the segments' labels (their dates) differ."""
    category = usage.discount_category
    if category and any((d := s.tariff.discounts.get(category)) and (d.valid_from or d.valid_to) for s in segments):
        return (usage.start, usage.end)
    return tuple((s.days, s.effective_from, s.variant.name if s.variant else "", s.hot) for s in segments)


def split_segments(timeline: list[tuple[date, Tariff]], usage: Usage) -> list[Segment]:
    """The period cut at each version change and at each Jalali month boundary where the season changes."""
    segments: list[Segment] = []
    day = usage.start
    while day <= usage.end:
        index = max(i for i, (effective, _) in enumerate(timeline) if effective <= day)
        effective, tariff = timeline[index]
        version_end = timeline[index + 1][0] - timedelta(days=1) if index + 1 < len(timeline) else usage.end
        piece_end = min(_jalali_month_end(day), version_end, usage.end)
        variant, hot = _season(tariff, usage.climate_zone, to_jalali(day).month)
        last = segments[-1] if segments else None
        if last and last.effective_from == effective and last.variant == variant and last.hot == hot:
            segments[-1] = Segment(last.start, piece_end, effective, tariff, variant, hot)
        else:
            segments.append(Segment(day, piece_end, effective, tariff, variant, hot))
        day = piece_end + timedelta(days=1)
    return segments


def round_rial(amount: Fraction) -> int:
    """Half a rial and more rounds away from zero."""
    whole = int(abs(amount) + Fraction(1, 2))
    return whole if amount >= 0 else -whole


def tier_split(consumption: Fraction, blocks: tuple[Block, ...], factor: Fraction) -> list[tuple[Fraction, Block]]:
    """(units, block) for each block the consumption reaches, bounds scaled by days/30 (marginal pricing)."""
    taken, lower = [], Fraction(0)
    for block in blocks:
        upper = None if block.upto is None else block.upto * factor
        units = consumption - lower if upper is None else min(consumption, upper) - lower
        if units > 0:
            taken.append((units, block))
        if upper is None or consumption <= upper:
            break
        lower = upper
    return taken


def tier_charge(consumption: Fraction, blocks: tuple[Block, ...], factor: Fraction) -> Fraction:
    return sum((units * block.rate for units, block in tier_split(consumption, blocks, factor)), Fraction(0))


def _parse_versions(versions) -> list[tuple[date, Tariff]]:
    if not versions:
        raise TariffInvalid([{"field": "", "message": gettext("There is no tariff version.")}])
    timeline, errors = [], []
    for i, (effective, data) in enumerate(versions):
        prefix = f"versions[{i}]." if len(versions) > 1 else ""
        try:
            timeline.append((parse_date(effective), _parsed(data)))
        except TariffInvalid as invalid:
            errors += [{"field": prefix + e["field"], "message": e["message"]} for e in invalid.errors]
        except ValueError:
            errors.append({"field": prefix + "effective_from",
                           "message": gettext("Enter a date like 2025-03-21 or 1404/01/01.")})
    if errors:
        raise TariffInvalid(errors)
    timeline.sort(key=lambda pair: pair[0])
    if len({t.utility for _, t in timeline}) > 1:
        errors.append({"field": "utility", "message": gettext("All versions must be of one utility.")})
    if len({effective for effective, _ in timeline}) < len(timeline):
        errors.append({"field": "effective_from", "message": gettext("Two versions take effect on the same day.")})
    if errors:
        raise TariffInvalid(errors)
    return timeline


def _parsed(data) -> Tariff:
    """parse_tariff, remembered for the tariffs a billing run quotes over and over (valid ones only:
    a refusal is raised afresh, in the caller's language)."""
    try:
        key = json.dumps(data, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return parse_tariff(data)
    return _parsed_json(key)


@lru_cache(maxsize=256)
def _parsed_json(key: str) -> Tariff:
    return parse_tariff(json.loads(key))


def _check_usage(usage: Usage, timeline: list[tuple[date, Tariff]]) -> None:
    errors = []
    tariffs = [t for _, t in timeline]
    utility = tariffs[0].utility
    if usage.end < usage.start:
        errors.append({"field": "end", "message": gettext("The period ends before it starts.")})
    elif timeline[0][0] > usage.start:
        errors.append({"field": "start", "message": gettext(
            "No tariff version is in force on %(date)s.", date=format_jalali_date(usage.start))})
    if usage.climate_zone not in UTILITY_CLIMATE_ZONES[utility]:
        errors.append({"field": "climate_zone", "message": gettext(
            "Unknown climate zone; allowed: %(names)s.", names=", ".join(UTILITY_CLIMATE_ZONES[utility]))})
    if not usage.registers or any(name not in REGISTERS for name in usage.registers):
        errors.append({"field": "registers", "message": gettext(
            "Unknown register; allowed: %(names)s.", names=", ".join(REGISTERS))})
    elif set(usage.registers) != {"total"}:
        for name in usage.registers:
            if name == "total" or any(name not in t.time_of_use for t in tariffs):
                errors.append({"field": f"registers.{name}", "message": gettext(
                    "This tariff has no time-of-use coefficient for this register.")})
    if any(t.fixed and usage.capacity_class not in t.fixed and "default" not in t.fixed for t in tariffs):
        errors.append({"field": "capacity_class", "message": gettext(
            "Choose a capacity class the tariff prices; allowed: %(names)s.",
            names=", ".join(sorted({name for t in tariffs for name in t.fixed})))})
    if any(t.demand for t in tariffs) and not usage.demand:
        errors.append({"field": "demand", "message": gettext(
            "This tariff charges for demand: give the contracted and measured kilowatts.")})
    if errors:
        raise UsageInvalid(errors)


def _jalali_month_end(day: date) -> date:
    j = to_jalali(day)
    following = jdatetime.date(j.year + 1, 1, 1) if j.month == 12 else jdatetime.date(j.year, j.month + 1, 1)
    return following.togregorian() - timedelta(days=1)


def _season(tariff: Tariff, zone: str, month: int) -> tuple[Variant | None, bool]:
    variant = next((v for v in tariff.variants if zone in v.zones and month in v.months), None)
    hot = bool(tariff.hot_season and month in tariff.hot_season.months)
    return variant, hot


def _segment_drafts(segment: Segment, usage: Usage) -> list[_Draft]:
    tariff, days = segment.tariff, segment.days
    factor, share = Fraction(days, MONTH), Fraction(days, usage.days)
    blocks = segment.variant.blocks if segment.variant else tariff.blocks
    zone_coefficient = tariff.zone_coefficients.get(usage.climate_zone, Fraction(1))
    registers = {name: Fraction(value) * share for name, value in usage.registers.items()}
    consumption = sum(registers.values(), Fraction(0))
    unit, label = tariff.unit, segment.label
    drafts: list[_Draft] = []

    def add(code, text, quantity, unit_, rate, exact, charge_type):
        if exact or quantity:
            drafts.append(_Draft(code, text, quantity, unit_, rate, exact, charge_type, label))

    energy_base = tier_charge(consumption, blocks, factor) * zone_coefficient
    if set(registers) == {"total"}:
        for number, (units, block) in enumerate(tier_split(consumption, blocks, factor), start=1):
            rate = block.rate * zone_coefficient
            add(f"energy.tier{number}", gettext("Consumption, block %(n)s", n=number), units, unit,
                _number(rate), units * rate, "energy")
    else:
        average = energy_base / consumption if consumption else Fraction(0)
        for name in TOU_REGISTERS:
            if name in registers:
                coefficient = tariff.time_of_use[name]
                add(f"tou.{name}", _register_label(name), registers[name], unit, _number(average * coefficient),
                    registers[name] * average * coefficient, "energy")
    energy = sum((d.exact for d in drafts), Fraction(0))

    if tariff.pattern:
        limit = tariff.pattern.limit
        if segment.variant and segment.variant.pattern_limit is not None:
            limit = segment.variant.pattern_limit
        limit *= factor
        if consumption > limit:
            beyond = (energy_base - tier_charge(limit, blocks, factor) * zone_coefficient)
            add("pattern_surcharge", gettext("Surcharge beyond the consumption pattern"), consumption - limit,
                unit, _percent(tariff.pattern.surcharge_percent),
                beyond * tariff.pattern.surcharge_percent / 100, "surcharge")
    if segment.hot and consumption > tariff.hot_season.exempt_upto * factor:
        add("hot_season", gettext("Hot-season surcharge"), energy, "%", _percent(tariff.hot_season.percent),
            energy * tariff.hot_season.percent / 100, "surcharge")
    if tariff.sewage_percent:
        add("sewage", gettext("Sewage fee"), energy, "%", _percent(tariff.sewage_percent),
            energy * tariff.sewage_percent / 100, "sewage")
    if tariff.fixed:
        monthly = tariff.fixed.get(usage.capacity_class, tariff.fixed.get("default"))
        add("fixed", gettext("Fixed charge (subscription)"), Fraction(days), "day", _number(monthly / MONTH),
            monthly * factor, "fixed")
    if tariff.demand:
        drafts += _demand_drafts(tariff, usage, factor, label)
    discount = tariff.discounts.get(usage.discount_category) if usage.discount_category else None
    if discount:
        drafts += _discount_drafts(discount, segment, drafts, consumption, blocks, factor, zone_coefficient)
    if tariff.minimum:  # after the discount, so more consumption never lowers a bill held at the minimum
        so_far = sum((d.exact for d in drafts), Fraction(0))
        minimum = tariff.minimum * factor
        if so_far < minimum:
            add("minimum", gettext("Minimum charge"), Fraction(days), "day", _number(tariff.minimum / MONTH),
                minimum - so_far, "minimum")
    return drafts


def _demand_drafts(tariff, usage, factor, label) -> list[_Draft]:
    contracted = to_fraction(usage.demand.get("contracted", 0))
    measured = to_fraction(usage.demand.get("measured", 0))
    rows = [("demand.contracted", gettext("Demand charge, contracted"), contracted, tariff.demand.contracted_rate),
            ("demand.measured", gettext("Demand charge, measured"), measured, tariff.demand.measured_rate),
            ("demand.excess", gettext("Demand charge, excess over contracted"), max(measured - contracted, 0),
             tariff.demand.excess_rate)]
    return [_Draft(code, text, kw, "kW", _number(rate * factor), kw * rate * factor, "demand", label)
            for code, text, kw, rate in rows if rate and kw]


def _discount_drafts(discount, segment, drafts, consumption, blocks, factor, zone_coefficient) -> list[_Draft]:
    first = max(segment.start, discount.valid_from or segment.start)
    last = min(segment.end, discount.valid_to or segment.end)
    if last < first:
        return []
    valid_share = Fraction((last - first).days + 1, segment.days)
    base = sum((d.exact for d in drafts if d.charge_type in discount.applies_to), Fraction(0))
    if discount.free_units:
        units = min(consumption, discount.free_units * factor)
        amount, quantity, unit, rate = (tier_charge(units, blocks, factor) * zone_coefficient, units,
                                        segment.tariff.unit, "")
    else:
        amount, quantity, unit, rate = base * discount.percent / 100, base, "%", _percent(discount.percent)
    if discount.cap is not None:
        amount = min(amount, discount.cap * factor)
    amount = min(amount, base) * valid_share
    if not amount:
        return []
    text = gettext("Discount: %(label)s", label=discount.label)
    return [_Draft("discount", text, quantity * valid_share, unit, rate, -amount, "discount", segment.label)]


# The order in which lines are rounded (see _rounded): energy first, then the other charges, so the
# energy total and the usual tax bases (energy; energy and surcharges; everything) are prefixes.
ROUNDING_ORDER = ("energy", "surcharge", "sewage", "fixed", "demand", "discount", "minimum")


def _rounded(drafts: list[_Draft]) -> list[Line]:
    """Each line to the rial by rounding running totals: taken in ROUNDING_ORDER, a line's amount is the
    rounded running total after it less the rounded running total before it. So each line is within a
    rial of its exact amount, and any prefix of that order — the energy charge, all the charges — is
    exactly its exact sum rounded once: splitting a period into segments cannot change the energy charge,
    and the charges grow with consumption whenever the exact charges do."""
    order = sorted(range(len(drafts)), key=lambda i: (ROUNDING_ORDER.index(drafts[i].charge_type), i))
    amounts: dict[int, int] = {}
    running, booked = Fraction(0), 0
    for i in order:
        running += drafts[i].exact
        amounts[i] = round_rial(running) - booked
        booked += amounts[i]
    return [Line(d.code, d.label, "" if d.quantity is None else _number(d.quantity), d.unit, d.rate, amounts[i],
                 d.charge_type, d.segment) for i, d in enumerate(drafts)]


def _tax_lines(segments: list[Segment], lines: list[Line]) -> list[Line]:
    """VAT and levies on the rounded charge lines of their base, one line per rate (per segment only when
    the rate changes within the period)."""
    groups: dict[tuple, list[Segment]] = {}
    for segment in segments:
        tariff = segment.tariff
        for tax in ([tariff.vat] if tariff.vat else []) + list(tariff.levies):
            groups.setdefault((tax.name, tax.label, tax.percent, tax.base), []).append(segment)
    tax_lines = []
    for (name, label, percent, base_types), members in groups.items():
        labels = {s.label for s in members}
        base = sum(line.amount for line in lines if line.segment in labels and line.charge_type in base_types)
        base = max(base, 0)
        if name == "vat":
            code, charge_type, text = "vat", "vat", label or gettext("Value added tax")
        else:
            code, charge_type, text = f"levy.{name}", f"levy:{name}", label or gettext("Levy: %(name)s", name=name)
        segment_text = "" if len(members) == len(segments) else "، ".join(s.label for s in members)
        amount = round_rial(Fraction(base) * percent / 100)
        if amount:
            tax_lines.append(Line(code, text, str(base), "%", _percent(percent), amount, charge_type, segment_text))
    return tax_lines


def _register_label(name: str) -> str:
    return {"peak": gettext("Consumption, peak hours"), "mid": gettext("Consumption, mid-load hours"),
            "offpeak": gettext("Consumption, off-peak hours"),
            "friday_peak": gettext("Consumption, Friday peak")}[name]


def _number(value: Fraction) -> str:
    """Decimal text with at most two places: 412, 137.33."""
    hundredths = round_rial(Fraction(value) * 100)
    whole, cents = divmod(abs(hundredths), 100)
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{whole}" if not cents else f"{sign}{whole}.{cents:02d}".rstrip("0")


def _percent(value: Fraction) -> str:
    return f"{_number(value)}%"
