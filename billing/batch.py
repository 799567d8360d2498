"""A billing run's chunk billed at once (PostgreSQL): the bills `bills.issue` would issue one by one, with the
same amounts, journals, postings, balances, reading links and audit rows, and the same reasons for the
contracts it would refuse — in a handful of set-based statements instead of dozens of round trips a bill.

1. read: the contracts with their service point, premise and installed meter; their bills; their unbilled
   readings and the reading before each register's first; their accounts, locked in one SELECT … FOR UPDATE.
2. calculate: each draft as `bills.prepare` makes it, priced by `calculation.quote` over the published
   versions (read once per job, `TariffBook`). A quote depends on the brought-forward balance only through
   its rounding and payable, so one calculation serves every contract with the same usage and versions.
3. write: the journals (`ledger.bill_batch.post_bills`), the bills and their audit rows by COPY, the readings
   linked by one UPDATE.

A contract that cannot be billed comes back with its reason, the rest of the chunk is billed regardless.
"""

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from itertools import islice

from flask_babel import gettext
from sqlalchemy import BigInteger, String, any_, bindparam, cast, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from billing.bills import capacity_class, climate_zone, usage_json
from billing.calculation import Line, Quote, Usage, price_shape, quote, segment_json, split_segments, timeline_of
from billing.models import Bill, BillStatus, MeterReading, TariffType, TariffVersion, VersionStatus
from billing.readings import CALCULATION_REGISTER
from core.db import utcnow
from core.errors import Conflict, DomainError, NotFound
from core.identifiers import make_payment_id
from core.jalali import to_jalali
from ledger.accounts import lock_accounts
from ledger.bill_batch import (
    AUDIT_COLUMNS,
    BillEntry,
    audit_rows,
    check_entry,
    copy_rows,
    pg_array,
    post_bills,
    reserve_ids,
)
from ledger.bills import bill_payable
from ledger.models import Account

QUOTES_KEPT = 30_000  # distinct usages remembered per process (a few KB each)

# A bill's JSON in UTF-8 rather than \u escapes: its Persian labels take a third of the bytes, and the row
# stays under PostgreSQL's 2 KB TOAST threshold instead of being compressed (pglz) on the way in.
# (an encoder made once: json.dumps makes one at each call when given an option)
_json = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True)
class Billed:
    bill_pk: int
    payable: int
    total: int


@dataclass(frozen=True)
class Skipped:
    reason: str
    detail: str


def detail_of(error: DomainError) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(error.params.items()))


# --- Tariffs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    id: int
    effective_from: date
    data: dict


class TariffBook:
    """The tariff types and published versions, read once: `find_tariff_type`, `tariff_code_for` and
    `versions_for_period` of billing/tariffs.py answered from memory."""

    def __init__(self, session):
        self.types: dict[tuple[str, str], TariffType] = {}
        for tariff_type in session.scalars(select(TariffType).order_by(TariffType.id.desc())):
            session.expunge(tariff_type)
            self.types[(tariff_type.utility, tariff_type.slug)] = tariff_type
        for tariff_type in list(self.types.values()):  # a code match wins over a slug match
            self.types[(tariff_type.utility, tariff_type.code)] = tariff_type
        self.versions: dict[tuple[int, str], list[Version]] = defaultdict(list)
        rows = session.execute(
            select(
                TariffVersion.id,
                TariffVersion.tariff_type_id,
                TariffVersion.code,
                TariffVersion.effective_from,
                TariffVersion.data,
            )
            .where(TariffVersion.status == VersionStatus.PUBLISHED)
            .order_by(TariffVersion.effective_from)
        )
        for version_id, type_id, code, effective_from, data in rows:
            self.versions[(type_id, code)].append(Version(version_id, effective_from, data))
        self._codes: dict[tuple[int, str], str] = {}
        self._in_force: dict[tuple[int, str, date, date], list[Version]] = {}

    def tariff_type(self, utility: str, code_or_slug: str) -> TariffType:
        found = self.types.get((utility, code_or_slug))
        if found is None:
            raise DomainError("billing.tariff_type_unknown", tariff_type=code_or_slug)
        return found

    def code_for(self, tariff_type: TariffType, zone: str) -> str:
        key = (tariff_type.id, zone)
        if key not in self._codes:
            codes = sorted(code for type_id, code in self.versions if type_id == tariff_type.id)
            if not codes:
                raise DomainError("billing.no_tariff_in_force", tariff_type=tariff_type.name)
            plain, chosen = [], None
            for code in codes:
                data = self.versions[(tariff_type.id, code)][-1].data
                zones = {z for variant in data.get("variants") or [] for z in variant.get("zones") or []}
                if zone in zones:
                    chosen = code
                    break
                if not zones:
                    plain.append(code)
            self._codes[key] = chosen or (plain or codes)[0]
        return self._codes[key]

    def in_force(self, type_id: int, code: str, start: date, end: date) -> list[Version]:
        key = (type_id, code, start, end)  # a few hundred periods: the route days' and their openings'
        found = self._in_force.get(key)
        if found is None:
            found = self._in_force[key] = self._versions_in_force(type_id, code, start, end)
        return found

    def _versions_in_force(self, type_id: int, code: str, start: date, end: date) -> list[Version]:
        published = self.versions.get((type_id, code), [])
        opening = [v for v in published if v.effective_from <= start][-1:]
        found = opening + [v for v in published if start < v.effective_from <= end]
        if not found or found[0].effective_from > start:
            raise DomainError("billing.no_tariff_in_force", tariff_type=code)
        return found


class QuoteBook:
    """`calculation.quote`, remembered by usage and versions. The balance brought forward changes only the
    rounding and the payable, which are worked out afresh for each bill exactly as `quote` does. The dates
    matter only through the shape of the period (`calculation.price_shape`: each segment's length, version,
    variant and season), so usages of the same shape and amounts share one calculation and only the
    segments' labels — their dates — are written anew. The quote's JSON (`Quote.to_json`) is written from
    pieces serialised once per usage, too. A period's segments (their labels and JSON) are worked out once
    per period and versions, and a calculation's lines relabelled once per period."""

    def __init__(self):
        self.kept: dict[tuple, tuple] = {}
        self.dated: dict[tuple, tuple] = {}
        self.periods: dict[tuple, tuple] = {}
        self.timelines: dict[tuple[int, ...], list] = {}
        self.calculated = self.reused = 0
        self._rounding_label = self._rounding_json = None

    def quote_and_json(self, versions: list[Version], usage: Usage) -> tuple[Quote, str]:
        calculated, written, _ledger_lines = self.quote_json_and_ledger_lines(versions, usage)
        return calculated, written

    def quote_json_and_ledger_lines(self, versions: list[Version], usage: Usage) -> tuple[Quote, str, dict]:
        """The quote, its JSON, and its `Quote.ledger_lines()` (a dict shared by the bills of a calculation:
        not to be changed)."""
        ids = tuple(v.id for v in versions)
        period_key = (ids, usage.start, usage.end, usage.climate_zone, usage.discount_category)
        period = self.periods.get(period_key)
        if period is None:
            period = self.periods[period_key] = self._period(ids, versions, usage)
        labels, shape, period_segments, segments_json = period
        demand = tuple(sorted(usage.demand.items())) if usage.demand else usage.demand
        key = (
            ids,
            shape,
            tuple(sorted(usage.registers.items())),
            usage.climate_zone,
            usage.capacity_class,
            demand,
            usage.discount_category,
        )
        dated = self.dated.get((key, labels))
        if dated is None:
            dated = self._remember(self.dated, (key, labels), self._dated(key, labels, versions, usage))
        else:
            self.reused += 1
        base, lines, head, comma, tail, ledger_lines = dated
        payable, rounding = bill_payable(usage.brought_forward, base.total)
        if rounding:
            if self._rounding_label is None:
                self._rounding_label = gettext("Rounding (rials under 1,000)")
                self._rounding_json = _json(self._rounding_label)
            lines = [*lines, Line("rounding", self._rounding_label, "", "", "", -rounding, "rounding")]
            head = (
                f'{head}{comma}{{"code": "rounding", "label": {self._rounding_json}, "quantity": "", "unit": "", '
                f'"rate": "", "amount": {-rounding}, "charge_type": "rounding", "segment": ""}}'
            )
        else:
            lines = list(lines)
        calculated = Quote(
            lines,
            base.charges,
            base.vat,
            base.levies,
            base.total,
            usage.brought_forward,
            rounding,
            payable,
            period_segments,
        )
        return (
            calculated,
            (
                f'{head}{tail}{usage.brought_forward}, "rounding": {rounding}, "payable": {payable}, '
                f'"segments": {segments_json}}}'
            ),
            ledger_lines,
        )

    def _period(self, ids: tuple[int, ...], versions: list[Version], usage: Usage) -> tuple:
        timeline = self.timelines.get(ids)
        if timeline is None:
            timeline = self.timelines[ids] = timeline_of([(v.effective_from, v.data) for v in versions])
        segments = split_segments(timeline, usage)
        period_segments = [segment_json(segment) for segment in segments]
        return (
            tuple(segment.label for segment in segments),
            price_shape(segments, usage),
            period_segments,
            _json(period_segments),
        )

    def _dated(self, key: tuple, labels: tuple[str, ...], versions: list[Version], usage: Usage) -> tuple:
        """The calculation of `key` (made now if it is new) with its lines naming the period's segments."""
        kept = self.kept.get(key)
        if kept is None:
            base = quote([(v.effective_from, v.data) for v in versions], replace(usage, brought_forward=0))
            lines = base.lines[:-1] if base.rounding else base.lines
            head = f'{{"lines": [{", ".join(_json(asdict(line)) for line in lines)}'
            tail = (
                f'], "charges": {base.charges}, "vat": {base.vat}, "levies": {_json(dict(base.levies))}, '
                f'"total": {base.total}, "brought_forward": '
            )
            kept = self._remember(
                self.kept, key, (base, lines, head, ", " if lines else "", tail, labels, base.ledger_lines())
            )
            self.calculated += 1
        else:
            self.reused += 1
        base, lines, head, comma, tail, kept_labels, ledger_lines = kept
        if kept_labels != labels:  # the same amounts over other dates: the lines name this period's segments
            relabel = dict(zip(kept_labels, labels, strict=True))
            lines = [
                replace(line, segment=_relabelled(line.segment, relabel)) if line.segment else line for line in lines
            ]
            for old, new in relabel.items():
                head = head.replace(_json(old)[1:-1], _json(new)[1:-1])
        return base, lines, head, comma, tail, ledger_lines

    @staticmethod
    def _remember(book: dict, key, value):
        if len(book) >= QUOTES_KEPT:  # forget the older half
            for old in list(islice(book, QUOTES_KEPT // 2)):
                del book[old]
        book[key] = value
        return value


def _relabelled(text: str, relabel: dict[str, str]) -> str:
    """A line's segment: one segment's label, or several joined (a tax over some of the segments)."""
    return "، ".join(relabel.get(part, part) for part in text.split("، "))


# --- Reading what a chunk needs --------------------------------------------------------------------------------


SOURCES = text("""
    SELECT c.id, c.subscription_no, c.bill_id, c.region_id, c.tariff_type, c.contracted_demand, c.discount_category,
           c.start_date, sp.utility, sp.phases, sp.amperage, sp.pipe_diameter, sp.gas_meter_size,
           p.climate_zone, i.meter_id, m.register_set, i.installed_on,
           i.initial_readings::text AS initial_readings  -- parsed only when needed (rarely: see _start_of)
    FROM contracts c
    JOIN service_points sp ON sp.id = c.service_point_id
    JOIN premises p ON p.id = sp.premise_id
    LEFT JOIN LATERAL (SELECT * FROM meter_installations mi
                       WHERE mi.service_point_id = c.service_point_id AND mi.removed_on IS NULL
                       ORDER BY mi.id LIMIT 1) i ON true
    LEFT JOIN meters m ON m.id = i.meter_id
    WHERE c.id = ANY(CAST(:ids AS bigint[]))""")

BILLS = text("""
    SELECT contract_id, period, count(*), count(*) FILTER (WHERE status = 'issued'),
           max(period_end) FILTER (WHERE status = 'issued')
    FROM billing_bills WHERE contract_id = ANY(CAST(:ids AS bigint[])) GROUP BY contract_id, period""")

OPENINGS = text("""
    SELECT contract_id, max(read_on) FROM billing_meter_readings
    WHERE contract_id = ANY(CAST(:ids AS bigint[])) AND opening GROUP BY contract_id""")

UNBILLED = text("""
    SELECT id, contract_id, meter_id, register, read_on, value, consumption, source,
           flags::text AS flags,  -- decoded only when not the usual [] (see _flagged)
           override_reason
    FROM billing_meter_readings WHERE contract_id = ANY(CAST(:ids AS bigint[])) AND bill_id IS NULL AND NOT opening
    ORDER BY contract_id, read_on, register""")

PREVIOUS = text("""
    SELECT v.n, r.value, r.read_on
    FROM unnest(CAST(:n AS int[]), CAST(:contract AS bigint[]), CAST(:meter AS bigint[]), CAST(:register AS text[]),
                CAST(:before AS date[])) AS v(n, contract_id, meter_id, register, before)
    JOIN LATERAL (SELECT value, read_on FROM billing_meter_readings r
                  WHERE r.contract_id = v.contract_id AND r.meter_id = v.meter_id AND r.register = v.register
                    AND r.read_on < v.before ORDER BY r.read_on DESC, r.id DESC LIMIT 1) r ON true""")


def any_ids(ids: list[int]):
    """`= ANY(:ids)` with the ids as one array parameter (an IN list of thousands of parameters costs
    milliseconds to render, convert and plan), sent as one array literal (psycopg would adapt a list element
    by element)."""
    return any_(cast(bindparam(None, pg_array(ids), type_=String), ARRAY(BigInteger)))


@dataclass
class Chunk:
    sources: dict[int, object]
    bill_counts: dict[tuple[int, str], int]
    issued: dict[int, set[str]]
    billed_until: dict[int, date]
    readings: dict[int, list]
    accounts: dict[int, object]


def read_chunk(session, contract_ids: list[int]) -> Chunk:
    params = {"ids": pg_array(contract_ids)}
    # .all(): the rows fetched at once (iterating a result fetches them one call at a time)
    sources = {row.id: row for row in session.execute(SOURCES, params).all()}
    bill_counts, issued, billed_until = {}, defaultdict(set), {}
    for contract_id, period, count, issued_count, last_end in session.execute(BILLS, params).all():
        bill_counts[(contract_id, period)] = count
        if issued_count:
            issued[contract_id].add(period)
        if last_end is not None:
            billed_until[contract_id] = max(last_end, billed_until.get(contract_id, last_end))
    for contract_id, last_opening in session.execute(OPENINGS, params).all():
        if last_opening is not None:
            billed_until[contract_id] = max(last_opening, billed_until.get(contract_id, last_opening))
    readings = defaultdict(list)
    for row in session.execute(UNBILLED, params).all():
        readings[row.contract_id].append(row)
    accounts = {a.contract_id: a for a in lock_accounts(session, Account.contract_id == any_ids(contract_ids))}
    return Chunk(sources, bill_counts, issued, billed_until, readings, accounts)


def _registers(source) -> tuple[str, ...]:
    return ("peak", "mid", "offpeak") if source.register_set == "tou" else ("single",)


# --- Calculating -------------------------------------------------------------------------------------------------


@dataclass
class Draft:
    """What `bills.prepare` returns, reduced to what the bill and its journal are written from."""

    source: object
    tariff_type: TariffType
    code: str
    versions: list[Version]
    usage: Usage
    readings: dict[str, dict]
    quote: Quote
    quote_json: str
    ledger_lines: dict[str, int]  # quote.ledger_lines(), shared by the bills of one calculation
    period: str
    jalali: tuple[int, int]


def _used_readings(chunk: Chunk, source) -> tuple[list, date | None]:
    """prepare's pending readings up to the closing day (or its DomainError)."""
    if source.meter_id is None:
        raise DomainError("billing.no_meter", contract=source.subscription_no)
    registers = set(_registers(source))
    billed_until = chunk.billed_until.get(source.id)
    pending = [
        r
        for r in chunk.readings.get(source.id, ())
        if r.meter_id == source.meter_id and (billed_until is None or r.read_on > billed_until)
    ]
    by_day = defaultdict(set)
    for r in pending:
        by_day[r.read_on].add(r.register)
    closing = next((day for day in sorted(by_day, reverse=True) if by_day[day] >= registers), None)
    if closing is None:
        raise DomainError("billing.no_new_reading")
    used = [r for r in pending if r.read_on <= closing]
    unaccepted = sorted({r.register for r in used if _flagged(r.flags) and not r.override_reason})
    if unaccepted:
        raise DomainError("billing.reading_flagged", registers=", ".join(unaccepted))
    return used, billed_until


def _flagged(flags_json: str | None) -> bool:
    return flags_json not in (None, "[]") and bool(json.loads(flags_json))


def _previous(session, wanted: list[tuple[int, int, str, date]]) -> dict[int, tuple[int, date]]:
    """{n: (value, day)} of the reading before each (contract, meter, register, day) asked; none when absent."""
    if not wanted:
        return {}
    columns = list(zip(*wanted, strict=True))
    rows = session.execute(
        PREVIOUS,
        {
            "n": pg_array(range(len(wanted))),
            "contract": pg_array(columns[0]),
            "meter": pg_array(columns[1]),
            "register": pg_array(columns[2]),
            "before": pg_array(columns[3]),
        },
    ).all()
    return {n: (int(value), read_on) for n, value, read_on in rows}


def _start_of(source, register: str, found: tuple[int, date] | None) -> tuple[int, date]:
    if found is not None:
        return found
    initial = json.loads(source.initial_readings) if source.initial_readings else {}
    return (int(initial.get(register, initial.get("single", 0)) or 0), max(source.installed_on, source.start_date))


def draft_chunk(
    session, chunk: Chunk, tariffs: TariffBook, quotes: QuoteBook, contract_ids: list[int]
) -> tuple[dict[int, Draft], dict[int, DomainError]]:
    """Each contract's draft as `bills.prepare` would make it with its locked balance, or its DomainError."""
    failed: dict[int, DomainError] = {}
    used_by: dict[int, tuple[list, date | None]] = {}
    wanted: list[tuple[int, int, str, date]] = []
    asks: dict[tuple[int, str, str], int] = {}
    for contract_id in contract_ids:
        source = chunk.sources.get(contract_id)
        try:
            if source is None:
                raise NotFound("billing.no_contract")
            if contract_id not in chunk.accounts:
                raise NotFound("ledger.no_account", contract_id=contract_id)
            tariffs.tariff_type(source.utility, source.tariff_type)
            used, billed_until = _used_readings(chunk, source)
        except DomainError as error:
            # kept without its traceback, which holds this frame: else the chunk's rows and drafts, held in a
            # cycle, would wait for the cyclic garbage collector instead of being freed once the chunk is done
            failed[contract_id] = error.with_traceback(None)
            continue
        used_by[contract_id] = (used, billed_until)
        for register in _registers(source):
            first = next(r for r in used if r.register == register)
            asks[(contract_id, register, "first")] = len(wanted)
            wanted.append((contract_id, source.meter_id, register, first.read_on))
        if billed_until is None:
            asks[(contract_id, _registers(source)[0], "start")] = len(wanted)
            wanted.append((contract_id, source.meter_id, _registers(source)[0], used[0].read_on))
    previous = _previous(session, wanted)
    drafts: dict[int, Draft] = {}
    for contract_id, (used, billed_until) in used_by.items():
        source = chunk.sources[contract_id]
        try:
            drafts[contract_id] = _draft(
                source, used, billed_until, previous, asks, tariffs, quotes, chunk.accounts[contract_id].balance
            )
        except DomainError as error:
            failed[contract_id] = error.with_traceback(None)
    return drafts, failed


def _draft(source, used, billed_until, previous, asks, tariffs: TariffBook, quotes: QuoteBook, balance: int) -> Draft:
    registers = _registers(source)
    if billed_until is None:
        first_day = _start_of(source, registers[0], previous.get(asks[(source.id, registers[0], "start")]))[1]
    else:
        first_day = billed_until
    first_day += timedelta(days=1)
    closing = used[-1].read_on
    readings = {}
    for register in registers:
        mine = [r for r in used if r.register == register]
        start_value, start_on = _start_of(source, register, previous.get(asks[(source.id, register, "first")]))
        readings[register] = {
            "from": start_value,
            "from_on": start_on.isoformat(),
            "to": mine[-1].value,
            "to_on": mine[-1].read_on.isoformat(),
            "consumption": sum(r.consumption for r in mine),
            "source": mine[-1].source,
            "reading_ids": [r.id for r in mine],
        }
    tariff_type = tariffs.tariff_type(source.utility, source.tariff_type)
    zone = climate_zone(source.utility, source.climate_zone)
    code = tariffs.code_for(tariff_type, zone)
    versions = tariffs.in_force(tariff_type.id, code, first_day, closing)
    demand = None
    if any(v.data.get("demand") for v in versions):
        contracted = source.contracted_demand or 0
        demand = {"contracted": contracted, "measured": contracted}
    usage = Usage(
        start=first_day,
        end=closing,
        registers={CALCULATION_REGISTER[name]: max(r["consumption"], 0) for name, r in readings.items()},
        climate_zone=zone,
        capacity_class=capacity_class(source),
        demand=demand,
        discount_category="" if source.discount_category in ("", "none") else source.discount_category,
        brought_forward=balance,
    )
    calculated, quote_json, ledger_lines = quotes.quote_json_and_ledger_lines(versions, usage)
    year, month = _jalali_month(closing)
    return Draft(
        source,
        tariff_type,
        code,
        versions,
        usage,
        readings,
        calculated,
        quote_json,
        ledger_lines,
        f"{year:04d}/{month:02d}",
        (year, month),
    )


@lru_cache(maxsize=4096)
def _jalali_month(day: date) -> tuple[int, int]:
    j = to_jalali(day)
    return j.year, j.month


# --- Writing ---------------------------------------------------------------------------------------------------

BILL_COLUMNS = (
    "id",
    "contract_id",
    "region_id",
    "tariff_type_id",
    "tariff_code",
    "period",
    "period_start",
    "period_end",
    "status",
    "bill_id",
    "payment_id",
    "issued_on",
    "due_on",
    "usage",
    "readings",
    "version_ids",
    "quote",
    "charges",
    "vat",
    "levies",
    "total",
    "brought_forward",
    "rounding",
    "payable",
    "journal_id",
    "sequence",
    "issued_by_id",
    "created_at",
    "cancel_reason",
)


def bill_chunk(
    session, actor, run, contract_ids: list[int], tariffs: TariffBook, quotes: QuoteBook
) -> dict[int, Billed | Skipped]:
    """Bill the run's claimed contracts in the caller's transaction: {contract id: Billed or Skipped}."""
    chunk = read_chunk(session, contract_ids)
    outcome: dict[int, Billed | Skipped] = {}
    candidates = []
    for contract_id in contract_ids:
        if run.period in chunk.issued.get(contract_id, ()):
            outcome[contract_id] = Skipped("billing.already_billed", "")
        else:
            candidates.append(contract_id)
    drafts, failed = draft_chunk(session, chunk, tariffs, quotes, candidates)
    entries: dict[int, tuple[Draft, BillEntry, int]] = {}
    checks: dict[str, tuple] = {}
    for contract_id in candidates:
        draft = drafts.get(contract_id)
        try:
            if draft is None:
                raise failed[contract_id]
            entry, sequence = _entry(chunk, draft, run)
            checks[entry.key] = check_entry(entry)
            if draft.period != run.period:  # its latest reading lies outside the run's month
                raise DomainError("billing.reading_outside_period", period=draft.period)
        except DomainError as error:
            # a kept error raised again holds this frame, which holds it: without its traceback, the chunk's
            # rows and drafts are freed as soon as the chunk is done instead of by the cyclic collector
            error.with_traceback(None)
            outcome[contract_id] = Skipped(error.code, detail_of(error)[:300])
            continue
        entries[contract_id] = (draft, entry, sequence)
    posted = post_bills(session, actor, [entry for _draft, entry, _seq in entries.values()], checks, audited=False)
    written = []
    for contract_id, (draft, entry, sequence) in entries.items():
        result = posted[contract_id]
        if isinstance(result, DomainError):
            if result.code == "ledger.key_taken":  # issue's "not new": this period's bill was posted before
                result = Conflict("billing.already_billed", period=draft.period)
            outcome[contract_id] = Skipped(result.code, detail_of(result)[:300])
            continue
        written.append((contract_id, draft, entry, sequence, result))
    outcome.update(_write_bills(session, actor, run, written))
    return outcome


def _entry(chunk: Chunk, draft: Draft, run) -> tuple[BillEntry, int]:
    source, calculated = draft.source, draft.quote
    if draft.period in chunk.issued.get(source.id, ()):
        raise Conflict("billing.already_billed", period=draft.period)
    sequence = 1 + chunk.bill_counts.get((source.id, draft.period), 0)
    year, month = draft.jalali
    payment_id = make_payment_id(calculated.payable, year, month, source.bill_id) if calculated.payable >= 1000 else ""
    entry = BillEntry(
        chunk.accounts[source.id],
        source.bill_id,
        draft.period,
        run.issued_on,
        run.issued_on + timedelta(days=run.due_days),
        draft.ledger_lines,
        calculated.vat,
        dict(calculated.levies),
        payment_id,
        f"billing:{source.id}:{draft.period}:{sequence}",
    )
    return entry, sequence


def _write_bills(session, actor, run, written) -> dict[int, Billed]:
    ids = reserve_ids(session, Bill.__tablename__, len(written))
    now, actor_id = utcnow(), getattr(actor, "id", None)
    rows, audits, links, outcome = [], [], ([], []), {}
    for bill_pk, (contract_id, draft, entry, sequence, posted) in zip(ids, written, strict=True):
        calculated, source = draft.quote, draft.source
        rows.append(
            (
                bill_pk,
                contract_id,
                source.region_id,
                draft.tariff_type.id,
                draft.code,
                draft.period,
                draft.usage.start,
                draft.usage.end,
                BillStatus.ISSUED.value,
                source.bill_id,
                entry.payment_id,
                entry.issued_on,
                entry.due_on,
                _json(usage_json(draft.usage)),
                _json(draft.readings),
                _json([v.id for v in draft.versions]),
                draft.quote_json,
                calculated.charges,
                calculated.vat,
                sum(calculated.levies.values()),
                calculated.total,
                calculated.brought_forward,
                calculated.rounding,
                calculated.payable,
                posted.journal_id,
                sequence,
                actor_id,
                now,
                "",
            )
        )
        audits.append(
            (
                bill_pk,
                {
                    "contract_id": contract_id,
                    "period": draft.period,
                    "payable": calculated.payable,
                    "journal_id": posted.journal_id,
                    "bill_id": source.bill_id,
                    "amount": posted.charged,
                },
            )
        )
        for register in draft.readings.values():
            links[0].extend(register["reading_ids"])
            links[1].extend([bill_pk] * len(register["reading_ids"]))
        outcome[contract_id] = Billed(bill_pk, calculated.payable, calculated.total)
    copy_rows(session, Bill.__tablename__, BILL_COLUMNS, rows)
    if links[0]:
        session.execute(
            text(
                f"UPDATE {MeterReading.__tablename__} AS r SET bill_id = v.bill_id "  # noqa: S608
                "FROM unnest(CAST(:ids AS bigint[]), CAST(:bills AS bigint[])) AS v(id, bill_id) WHERE r.id = v.id"
            ),
            {"ids": pg_array(links[0]), "bills": pg_array(links[1])},
        )
    copy_rows(session, "audit_log", AUDIT_COLUMNS, audit_rows(actor, "billing.bill_issued", "Bill", audits, now))
    return outcome
