"""A tariff version as JSON — the form the tariff pages save and `madam tariff quote` reads — checked
field by field and parsed into frozen dataclasses the calculation uses. Format: docs/tariffs.md."""

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from flask_babel import gettext

from core.errors import DomainError
from core.jalali import InvalidJalaliDate, parse_jalali_date
from core.messages import register_messages
from core.text import to_ascii_digits

UTILITY_CLIMATE_ZONES: dict[str, tuple[str, ...]] = {
    "electricity": ("normal", "tropical1", "tropical2", "tropical3", "tropical4"),
    "water": ("normal", "zone1", "zone2", "zone3"),
    "gas": ("climate1", "climate2", "climate3", "climate4", "climate5"),
}
UTILITY_UNITS = {"electricity": "kWh", "water": "m³", "gas": "m³"}
REGISTERS = ("total", "peak", "mid", "offpeak", "friday_peak")
TOU_REGISTERS = REGISTERS[1:]
# What a bill line is booked as in the ledger (Line.charge_type); taxes name the ones they are levied on.
CHARGE_TYPES = ("energy", "surcharge", "sewage", "fixed", "demand", "minimum", "discount")
DEFAULT_TAX_BASE = CHARGE_TYPES
TARIFF_FIELDS = ("utility", "tariff_type", "code", "name", "effective_from", "example", "notes", "blocks", "variants",
                 "pattern", "time_of_use", "fixed", "demand", "minimum", "sewage_percent", "hot_season",
                 "zone_coefficients", "vat", "levies", "discounts")
EXAMPLES_DIR = Path(__file__).parent / "examples"


class TariffInvalid(DomainError):
    """Every problem of a tariff: errors = [{"field": "blocks[2].upto", "message": "<in the user's language>"}]."""

    def __init__(self, errors: list[dict]):
        super().__init__("billing.tariff_invalid", field=errors[0]["field"] if errors else None, errors=errors)
        self.errors = errors

    def __str__(self):
        return "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)


@dataclass(frozen=True)
class Block:
    upto: Fraction | None  # units per 30 days; None for the last, open block
    rate: Fraction  # rials per unit


@dataclass(frozen=True)
class Variant:
    """A regional variant: in these climate zones, in these Jalali months, these blocks apply."""
    name: str
    zones: tuple[str, ...]
    months: tuple[int, ...]
    blocks: tuple[Block, ...]
    pattern_limit: Fraction | None = None


@dataclass(frozen=True)
class Pattern:
    limit: Fraction  # units per 30 days (الگوی مصرف)
    surcharge_percent: Fraction  # on the energy charge of the units beyond it


@dataclass(frozen=True)
class Demand:
    contracted_rate: Fraction  # rials per kW per 30 days
    measured_rate: Fraction
    excess_rate: Fraction  # per kW measured above the contracted demand


@dataclass(frozen=True)
class HotSeason:
    months: tuple[int, ...]
    percent: Fraction
    exempt_upto: Fraction  # units per 30 days at or under which no surcharge is due


@dataclass(frozen=True)
class Tax:
    name: str
    label: str
    percent: Fraction
    base: tuple[str, ...]


@dataclass(frozen=True)
class Discount:
    category: str
    label: str
    percent: Fraction
    cap: Fraction | None  # rials per 30 days
    free_units: Fraction  # per 30 days
    valid_from: date | None
    valid_to: date | None  # inclusive
    applies_to: tuple[str, ...]


@dataclass(frozen=True)
class Tariff:
    utility: str
    tariff_type: str
    code: str
    name: str
    unit: str
    blocks: tuple[Block, ...]
    variants: tuple[Variant, ...] = ()
    pattern: Pattern | None = None
    time_of_use: dict[str, Fraction] = field(default_factory=dict)
    fixed: dict[str, Fraction] = field(default_factory=dict)
    demand: Demand | None = None
    minimum: Fraction = Fraction(0)
    sewage_percent: Fraction = Fraction(0)
    hot_season: HotSeason | None = None
    zone_coefficients: dict[str, Fraction] = field(default_factory=dict)
    vat: Tax | None = None
    levies: tuple[Tax, ...] = ()
    discounts: dict[str, Discount] = field(default_factory=dict)


def _listed(errors) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors or [])


register_messages({
    "billing.tariff_invalid": lambda p: gettext("The tariff is not valid: %(errors)s", errors=_listed(p.get("errors"))),
    "billing.usage_invalid": lambda p: gettext("The usage is not valid: %(errors)s", errors=_listed(p.get("errors"))),
})


def tariff_errors(data) -> list[dict]:
    """[] when the tariff is valid; otherwise every problem, each naming its field."""
    try:
        parse_tariff(data)
    except TariffInvalid as invalid:
        return invalid.errors
    return []


def parse_tariff(data) -> Tariff:
    """The tariff in `data`, or TariffInvalid listing every problem."""
    reader = _Reader()
    if not isinstance(data, dict):
        reader.error("", gettext("A tariff is a JSON object."))
        raise TariffInvalid(reader.errors)
    for key in data:
        if key not in TARIFF_FIELDS:
            reader.error(str(key), gettext("Unknown field; allowed: %(names)s.", names=", ".join(TARIFF_FIELDS)))
    utility = data.get("utility")
    if utility not in UTILITY_CLIMATE_ZONES:
        reader.error("utility", gettext("Choose the utility: electricity, water or gas."))
        utility = None
    zones = UTILITY_CLIMATE_ZONES.get(utility, ())
    tariff_type = reader.text(data, "tariff_type", required=True)
    blocks = reader.blocks(data.get("blocks"), "blocks")
    variants = tuple(reader.variant(v, f"variants[{i}]", zones) for i, v in enumerate(reader.list(data, "variants")))
    tou = reader.number_map(data, "time_of_use", TOU_REGISTERS)
    zone_coefficients = reader.number_map(data, "zone_coefficients", zones)
    discounts = {}
    for category, raw in reader.mapping(data, "discounts").items():
        discounts[category] = reader.discount(category, raw, f"discounts.{category}")
    levies = tuple(reader.tax(t, f"levies[{i}]", named=True) for i, t in enumerate(reader.list(data, "levies")))
    tariff = Tariff(
        utility=utility or "",
        tariff_type=tariff_type,
        code=reader.text(data, "code"),
        name=reader.text(data, "name"),
        unit=UTILITY_UNITS.get(utility, ""),
        blocks=blocks,
        variants=variants,
        pattern=reader.pattern(data.get("pattern"), "pattern"),
        time_of_use=tou,
        fixed=reader.number_map(data, "fixed", None),
        demand=reader.demand(data.get("demand"), "demand"),
        minimum=reader.number(data, "minimum", default=0),
        sewage_percent=reader.number(data, "sewage_percent", default=0, maximum=1000),
        hot_season=reader.hot_season(data.get("hot_season"), "hot_season"),
        zone_coefficients=zone_coefficients,
        vat=reader.tax(data["vat"], "vat", named=False) if data.get("vat") is not None else None,
        levies=levies,
        discounts=discounts,
    )
    if "effective_from" in data and data["effective_from"] not in (None, ""):
        reader.date(data, "effective_from")
    if reader.errors:
        raise TariffInvalid(reader.errors)
    return tariff


def example_tariffs() -> list[dict]:
    """The example tariffs shipped as demo data (billing/examples/*.json): figures to be replaced by the
    official booklet, each marked "example": true."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(EXAMPLES_DIR.glob("*.json"))]


def parse_date(value) -> date:
    """An ISO date (2025-03-21) or a Jalali one (1404/01/01, Persian digits allowed); ValueError otherwise."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(value)
    text = to_ascii_digits(value).strip()
    if "/" in text:
        try:
            return parse_jalali_date(text)
        except InvalidJalaliDate as exc:
            raise ValueError(value) from exc
    return date.fromisoformat(text)


def to_fraction(value) -> Fraction:
    """A JSON number or numeric text as an exact fraction (floats through their shortest text, so 0.1 is 1/10)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(value)
    if isinstance(value, int):
        return Fraction(value)
    try:
        number = Decimal(to_ascii_digits(str(value)).strip().replace("٫", "."))
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return Fraction(number)


class _Reader:
    """Reads one tariff's fields, collecting an error per bad field instead of stopping at the first."""

    def __init__(self):
        self.errors: list[dict] = []

    def error(self, field_name: str, message: str) -> None:
        self.errors.append({"field": field_name, "message": message})

    def text(self, data: dict, key: str, required=False) -> str:
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.error(key, gettext("Write this as text."))
            return ""
        value = str(value).strip()
        if required and not value:
            self.error(key, gettext("This field is required."))
        return value

    def list(self, data: dict, key: str) -> list:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(key, gettext("This must be a list."))
            return []
        return value

    def mapping(self, data, key: str, path: str | None = None) -> dict:
        value = data.get(key) if isinstance(data, dict) else None
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(path or key, gettext("This must be an object of names and values."))
            return {}
        return value

    def number(self, data, key: str, path: str | None = None, default=None, minimum=0, maximum=None):
        """A number ≥ minimum (and ≤ maximum); `default` when absent; None (with an error) when required."""
        path = path or key
        value = data.get(key) if isinstance(data, dict) else None
        if value is None or value == "":
            if default is None:
                self.error(path, gettext("This field is required."))
                return None
            return Fraction(default)
        try:
            number = to_fraction(value)
        except ValueError:
            self.error(path, gettext("Enter a number."))
            return None
        if number < minimum:
            self.error(path, gettext("This cannot be less than %(minimum)s.", minimum=minimum))
            return None
        if maximum is not None and number > maximum:
            self.error(path, gettext("This cannot be more than %(maximum)s.", maximum=maximum))
            return None
        return number

    def number_map(self, data: dict, key: str, allowed: tuple[str, ...] | None) -> dict[str, Fraction]:
        result = {}
        for name, value in self.mapping(data, key).items():
            if allowed is not None and name not in allowed:
                self.error(f"{key}.{name}", gettext("Unknown name; allowed: %(names)s.", names=", ".join(allowed)))
                continue
            number = self.number({name: value}, name, path=f"{key}.{name}")
            if number is not None:
                result[name] = number
        return result

    def date(self, data: dict, key: str, path: str | None = None) -> date | None:
        value = data.get(key)
        if value in (None, ""):
            return None
        try:
            return parse_date(value)
        except ValueError:
            self.error(path or key, gettext("Enter a date like 2025-03-21 or 1404/01/01."))
            return None

    def months(self, data: dict, key: str, path: str) -> tuple[int, ...]:
        months = data.get(key)
        if not isinstance(months, list) or not months or any(
                not isinstance(m, int) or isinstance(m, bool) or not 1 <= m <= 12 for m in months):
            self.error(path, gettext("List the Jalali months (1 to 12) in which this applies."))
            return ()
        return tuple(sorted(set(months)))

    def blocks(self, raw, path: str) -> tuple[Block, ...]:
        if not isinstance(raw, list) or not raw:
            self.error(path, gettext("Give at least one consumption block."))
            return ()
        blocks, previous = [], Fraction(0)
        for i, item in enumerate(raw):
            where = f"{path}[{i}]"
            if not isinstance(item, dict):
                self.error(where, gettext("A block is an object with upto and rate."))
                continue
            rate = self.number(item, "rate", path=f"{where}.rate")
            last = i == len(raw) - 1
            upto = None
            if item.get("upto") is not None:
                upto = self.number(item, "upto", path=f"{where}.upto")
                if upto is not None and upto <= previous:
                    self.error(f"{where}.upto", gettext("Each block must end above the one before it."))
                previous = upto if upto is not None else previous
            elif not last:
                self.error(f"{where}.upto", gettext("Only the last block may be open-ended."))
            if last and upto is not None:
                self.error(f"{where}.upto", gettext("The last block must be open-ended (upto: null)."))
            blocks.append(Block(upto, rate if rate is not None else Fraction(0)))
        return tuple(blocks)

    def variant(self, raw, path: str, zones: tuple[str, ...]) -> Variant | None:
        if not isinstance(raw, dict):
            self.error(path, gettext("A variant is an object with zones, months and blocks."))
            return None
        names = raw.get("zones")
        if not isinstance(names, list) or not names or any(z not in zones for z in names):
            self.error(f"{path}.zones", gettext("List the climate zones; allowed: %(names)s.",
                                                names=", ".join(zones)))
            names = []
        limit = self.number(raw, "pattern_limit", path=f"{path}.pattern_limit", default=-1, minimum=-1)
        return Variant(name=str(raw.get("name", "")), zones=tuple(names), months=self.months(raw, "months",
                       f"{path}.months"), blocks=self.blocks(raw.get("blocks"), f"{path}.blocks"),
                       pattern_limit=None if limit is None or limit < 0 else limit)

    def pattern(self, raw, path: str) -> Pattern | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.error(path, gettext("This must be an object of names and values."))
            return None
        limit = self.number(raw, "limit", path=f"{path}.limit")
        percent = self.number(raw, "surcharge_percent", path=f"{path}.surcharge_percent", maximum=1000)
        return Pattern(limit, percent) if limit is not None and percent is not None else None

    def demand(self, raw, path: str) -> Demand | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.error(path, gettext("This must be an object of names and values."))
            return None
        rates = [self.number(raw, key, path=f"{path}.{key}", default=0)
                 for key in ("contracted_rate", "measured_rate", "excess_rate")]
        return Demand(*rates) if None not in rates else None

    def hot_season(self, raw, path: str) -> HotSeason | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.error(path, gettext("This must be an object of names and values."))
            return None
        months = self.months(raw, "months", f"{path}.months")
        percent = self.number(raw, "percent", path=f"{path}.percent", maximum=1000)
        exempt = self.number(raw, "exempt_upto", path=f"{path}.exempt_upto", default=0)
        return HotSeason(months, percent, exempt) if percent is not None and exempt is not None else None

    def tax(self, raw, path: str, named: bool) -> Tax | None:
        if not isinstance(raw, dict):
            self.error(path, gettext("This must be an object of names and values."))
            return None
        name = "vat"
        if named:
            name = raw.get("name")
            if not isinstance(name, str) or not name.strip() or not name.replace("_", "").isalnum():
                self.error(f"{path}.name", gettext("Name the levy in Latin letters, e.g. electricity."))
                name = ""
        percent = self.number(raw, "percent", path=f"{path}.percent", maximum=100)
        base = raw.get("base", list(DEFAULT_TAX_BASE))
        if not isinstance(base, list) or not base or any(b not in CHARGE_TYPES for b in base):
            self.error(f"{path}.base", gettext("List the charges it is levied on; allowed: %(names)s.",
                                               names=", ".join(CHARGE_TYPES)))
            base = []
        label = str(raw.get("label") or "")
        return Tax(name, label, percent, tuple(base)) if percent is not None else None

    def discount(self, category: str, raw, path: str) -> Discount | None:
        if not isinstance(raw, dict):
            self.error(path, gettext("This must be an object of names and values."))
            return None
        percent = self.number(raw, "percent", path=f"{path}.percent", default=0, maximum=100)
        cap = self.number(raw, "cap", path=f"{path}.cap", default=-1, minimum=-1)
        free_units = self.number(raw, "free_units", path=f"{path}.free_units", default=0)
        if percent is not None and free_units is not None and (percent > 0) == (free_units > 0):
            self.error(path, gettext("Give either a percentage or a number of free units, not both."))
        applies_to = raw.get("applies_to", ["energy"])
        if not isinstance(applies_to, list) or not applies_to or any(
                a not in CHARGE_TYPES or a == "discount" for a in applies_to):
            self.error(f"{path}.applies_to", gettext("List the charges it reduces; allowed: %(names)s.",
                                                     names=", ".join(CHARGE_TYPES[:-1])))
            applies_to = ["energy"]
        valid_from = self.date(raw, "valid_from", f"{path}.valid_from")
        valid_to = self.date(raw, "valid_to", f"{path}.valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            self.error(f"{path}.valid_to", gettext("The end of validity is before its start."))
        return Discount(category=category, label=str(raw.get("label") or category), percent=percent or Fraction(0),
                        cap=None if cap is None or cap < 0 else cap, free_units=free_units or Fraction(0),
                        valid_from=valid_from, valid_to=valid_to, applies_to=tuple(applies_to))
