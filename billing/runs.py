"""General bill issuance (صدور عمومی صورتحساب): a run bills every active contract of a utility in the chosen
regions whose closing reading falls in a Jalali month.

The run's contracts are its to-do list (`billing_run_contracts`). Workers claim pending rows in chunks
(`FOR UPDATE SKIP LOCKED` on PostgreSQL), issue each bill with its ledger journal, and mark the row, all in
the chunk's transaction; a contract that cannot be billed is marked skipped with its reason, in a savepoint
of its own so that it never spoils its chunk. A worker killed at any point loses only its uncommitted chunk,
whose rows are pending again: resuming bills exactly what is missing. The database's one-issued-bill-per-
contract-and-period index makes a second run over the same contracts skip them instead of billing twice.
"""

import gc
import re
from datetime import date, datetime, timedelta

import jdatetime
from sqlalchemy import String, cast, exists, func, insert, literal, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import batch, bills
from billing.models import Bill, BillStatus, MeterReading, TariffType, TariffVersion, VersionStatus
from billing.run_models import BillingRun, BillingRunContract, RunContractStatus, RunStatus
from billing.signals import run_finished
from core.accounts import User
from core.audit import audit
from core.db import utcnow
from core.errors import Conflict, DomainError, NotFound
from core.regions import Region
from core.utilities import Utility
from ledger.bill_batch import pg_array
from subscribers.models import Contract, MeterInstallation, ServicePoint

PERIOD = re.compile(r"^(1[34]\d\d)/(0[1-9]|1[0-2])$")
ACTIVE = (RunStatus.PREVIEWED, RunStatus.APPROVED, RunStatus.RUNNING, RunStatus.PAUSED)
SAMPLE = 1000  # contracts whose bills the preview calculates; beyond that the totals are extrapolated


def period_bounds(period: str) -> tuple[date, date]:
    """The first and last Gregorian day of a Jalali month written "1404/07"."""
    match = PERIOD.fullmatch((period or "").strip())
    if not match:
        raise DomainError("billing.run_period_invalid", field="period")
    year, month = int(match[1]), int(match[2])
    first = jdatetime.date(year, month, 1).togregorian()
    following = jdatetime.date(year + (month == 12), month % 12 + 1, 1).togregorian()
    return first, following - timedelta(days=1)


def scope(session, utility: str, region_ids: list[int]):
    """The ids of the active contracts of `utility` in the regions and the regions below them."""
    paths = session.scalars(select(Region.path).where(Region.id.in_(region_ids))).all()
    below = select(Region.id).where(or_(*[Region.path.startswith(path) for path in paths]))
    return (
        select(Contract.id)
        .join(ServicePoint, ServicePoint.id == Contract.service_point_id)
        .where(Contract.status == "active", ServicePoint.utility == utility, Contract.region_id.in_(below))
    )


def create_run(
    session,
    actor,
    *,
    utility: str,
    period: str,
    region_ids: list[int],
    issued_on: date,
    due_days: int = bills.DEFAULT_DUE_DAYS,
    chunk_size: int = 500,
    instance_id: int | None = None,
) -> BillingRun:
    """Fix a run's scope and list its contracts; refuse a scope that overlaps another unfinished run of the
    same utility and period (their contracts would race). The preview is computed at once."""
    if utility not in set(Utility):
        raise DomainError("billing.utility_invalid", field="utility")
    start, end = period_bounds(period)
    region_ids = sorted({int(r) for r in region_ids or []})
    if not region_ids or len(session.scalars(select(Region.id).where(Region.id.in_(region_ids))).all()) != len(
        region_ids
    ):
        raise DomainError("billing.run_regions_invalid", field="regions")
    if not 1 <= int(due_days) <= 90:
        raise DomainError("billing.run_due_days_invalid", field="due_days")
    run = BillingRun(
        utility=utility,
        period=period.strip(),
        period_start=start,
        period_end=end,
        region_ids=region_ids,
        issued_on=issued_on,
        due_days=int(due_days),
        chunk_size=max(10, min(int(chunk_size), 5000)),
        status=RunStatus.PREVIEWED,
        created_by_id=getattr(actor, "id", None),
        instance_id=instance_id,
        preview={},
    )
    session.add(run)
    session.flush()
    contracts = scope(session, utility, region_ids)
    overlapping = session.scalar(
        select(BillingRunContract.run_id)
        .join(BillingRun, BillingRun.id == BillingRunContract.run_id)
        .where(
            BillingRun.id != run.id,
            BillingRun.utility == utility,
            BillingRun.period == run.period,
            BillingRun.status.in_(ACTIVE),
            BillingRunContract.contract_id.in_(contracts),
        )
        .limit(1)
    )
    if overlapping is not None:
        raise Conflict("billing.run_overlaps", run=overlapping)
    session.execute(
        insert(BillingRunContract).from_select(
            ["run_id", "contract_id", "status", "reason", "detail", "attempts"],
            select(
                literal(run.id),
                contracts.subquery().c.id,
                literal(RunContractStatus.PENDING.value),
                literal(""),
                literal(""),
                literal(0),
            ),
        )
    )
    run.total = (
        session.scalar(select(func.count()).select_from(BillingRunContract).where(BillingRunContract.run_id == run.id))
        or 0
    )
    if session.get_bind().dialect.name == "postgresql":
        # The statistics have not seen the contracts just listed (ANALYZE counts this transaction's rows):
        # without them the planner would sort every pending row at each worker's claim (~0.5 s at a million)
        # instead of walking the primary key from the worker's place.
        session.execute(text("ANALYZE billing_run_contracts"))
    run.preview = preview(session, run)
    audit(
        session,
        actor,
        "billing.run_created",
        run,
        utility=utility,
        period=run.period,
        regions=region_ids,
        contracts=run.total,
    )
    return run


def preview(session, run: BillingRun) -> dict:
    """What approving the run would do: the exceptions it will meet (exact, by reason) and the bills it will
    issue (calculated for up to SAMPLE contracts, extrapolated beyond — marked as an estimate)."""
    in_run = select(BillingRunContract.contract_id).where(BillingRunContract.run_id == run.id)
    period_readings = select(MeterReading.contract_id).where(
        MeterReading.bill_id.is_(None),
        MeterReading.opening.is_(False),
        MeterReading.read_on.between(run.period_start, run.period_end),
    )
    flagged = period_readings.where(cast(MeterReading.flags, String) != "[]", MeterReading.override_reason == "")
    billed = select(Bill.contract_id).where(Bill.period == run.period, Bill.status == BillStatus.ISSUED)

    def published(column):  # a contract names its tariff type by slug or by code
        return (
            select(column)
            .join(TariffVersion, TariffVersion.tariff_type_id == TariffType.id)
            .where(
                TariffType.utility == run.utility,
                TariffVersion.status == VersionStatus.PUBLISHED,
                TariffVersion.effective_from <= run.period_end,
            )
        )

    def count(*where) -> int:
        return session.scalar(select(func.count()).select_from(Contract).where(Contract.id.in_(in_run), *where)) or 0

    exceptions = {
        "billing.already_billed": count(Contract.id.in_(billed)),
        "billing.no_new_reading": count(Contract.id.not_in(period_readings), Contract.id.not_in(billed)),
        "billing.reading_flagged": count(Contract.id.in_(flagged), Contract.id.not_in(billed)),
        "billing.tariff_missing": count(
            Contract.tariff_type.not_in(published(TariffType.slug)),
            Contract.tariff_type.not_in(published(TariffType.code)),
        ),
    }
    ready = session.scalars(
        select(Contract.id)
        .where(
            Contract.id.in_(in_run),
            Contract.id.in_(period_readings),
            Contract.id.not_in(flagged),
            Contract.id.not_in(billed),
        )
        .order_by(Contract.id)
    ).all()
    step = max(1, len(ready) // SAMPLE)
    sample = ready[::step][:SAMPLE]
    totals = {"charges": 0, "vat": 0, "levies": 0, "total": 0, "payable": 0}
    failed = {}
    for contract_id in sample:
        try:
            draft = bills.prepare(session, contract_id)
        except DomainError as error:
            failed[error.code] = failed.get(error.code, 0) + 1
            continue
        for key in totals:
            value = draft.quote.levies if key == "levies" else getattr(draft.quote, key)
            totals[key] += sum(value.values()) if isinstance(value, dict) else value
    scale = len(ready) / len(sample) if sample else 0
    return {
        "contracts": run.total,
        "ready": len(ready),
        "sampled": len(sample),
        "estimate": len(sample) < len(ready),
        "expected": {key: int(value * scale) for key, value in totals.items()},
        "exceptions": {code: n for code, n in exceptions.items() if n},
        "sample_failures": failed,
    }


def _run(session, run_id: int, lock: bool = True) -> BillingRun:
    stmt = select(BillingRun).where(BillingRun.id == run_id)
    run = session.scalar(stmt.with_for_update() if lock else stmt)
    if run is None:
        raise NotFound("billing.run_not_found")
    return run


def _require(run: BillingRun, *allowed: RunStatus) -> None:
    if run.status not in allowed:
        raise Conflict("billing.run_state", status=run.status)


def approve(session, actor, run_id: int) -> BillingRun:
    run = _run(session, run_id)
    _require(run, RunStatus.PREVIEWED)
    if actor is not None and run.created_by_id == getattr(actor, "id", None):
        raise DomainError("billing.run_approver_same")  # four eyes: who scoped it does not approve it
    run.status, run.approved_by_id = RunStatus.APPROVED, getattr(actor, "id", None)
    audit(session, actor, "billing.run_approved", run)
    return run


def start(session, actor, run_id: int, enqueue=None, workers: int = 2) -> BillingRun:
    """Set an approved (or paused, or stalled) run going; `enqueue(work, run_id)` is called `workers` times
    once the caller commits — the jobs must see the run running."""
    run = _run(session, run_id)
    _require(run, RunStatus.APPROVED, RunStatus.PAUSED, RunStatus.RUNNING)
    run.status = RunStatus.RUNNING
    run.started_at = run.started_at or utcnow()
    audit(session, actor, "billing.run_started", run, workers=workers)
    if enqueue is not None:
        for _ in range(max(1, workers)):
            enqueue(work, run.id)
    return run


def pause(session, actor, run_id: int) -> BillingRun:
    run = _run(session, run_id)
    _require(run, RunStatus.RUNNING)
    run.status = RunStatus.PAUSED
    audit(session, actor, "billing.run_paused", run)
    return run


def rerun_skipped(session, actor, run_id: int, enqueue=None, reasons: list[str] | None = None) -> int:
    """Put the skipped contracts (all, or those skipped for `reasons`) back on the to-do list and run again —
    after their readings were entered or their flags approved."""
    run = _run(session, run_id)
    _require(run, RunStatus.FINISHED, RunStatus.PAUSED)
    stmt = update(BillingRunContract).where(
        BillingRunContract.run_id == run.id, BillingRunContract.status == RunContractStatus.SKIPPED
    )
    if reasons:
        stmt = stmt.where(BillingRunContract.reason.in_(reasons))
    again = session.execute(stmt.values(status=RunContractStatus.PENDING, reason="", detail="")).rowcount
    run.status, run.finished_at = RunStatus.APPROVED, None
    audit(session, actor, "billing.run_rerun", run, contracts=again)
    start(session, actor, run.id, enqueue)
    return again


def cancel(session, actor, run_id: int, reason: str) -> BillingRun:
    """Abandon a run before it bills anything (its procedure was rejected)."""
    run = _run(session, run_id)
    _require(run, RunStatus.PREVIEWED, RunStatus.APPROVED)
    run.status, run.note = RunStatus.CANCELLED, (reason or "")[:500]
    audit(session, actor, "billing.run_cancelled", run, reason=run.note)
    return run


def publish(session, actor, run_id: int) -> BillingRun:
    run = _run(session, run_id)
    _require(run, RunStatus.FINISHED)
    run.status, run.published_at = RunStatus.PUBLISHED, utcnow()
    audit(session, actor, "billing.run_published", run, **progress(session, run.id))
    return run


# --- The work -------------------------------------------------------------------------------------------------


def work(run_id: int, bind=None) -> dict:
    """The background job: bill pending contracts chunk by chunk until none is left or the run is paused.
    Runs in its own session (it may be called right after a request's commit, in-process). On PostgreSQL a
    chunk is billed at once (billing/batch.py); elsewhere (the embedded SQLite) one contract at a time."""
    from core.db import db

    # Joining the caller's connection (in tests) as savepoints; on an engine, simply its own transactions.
    with Session(bind=bind or db.engine, expire_on_commit=False, join_transaction_mode="create_savepoint") as session:
        done = {"billed": 0, "skipped": 0}
        in_bulk = session.get_bind().dialect.name == "postgresql"
        tariffs, quotes, after, chunks = None, batch.QuoteBook(), 0, 0
        threshold = gc.get_threshold()
        freezing = in_bulk and gc.get_freeze_count() == 0  # (not when the process froze objects of its own)
        if freezing:
            gc.set_threshold(YOUNG_OBJECTS, *threshold[1:])
        try:
            while True:
                run = _run(session, run_id, lock=False)
                if run.status != RunStatus.RUNNING:
                    session.rollback()
                    break
                actor = session.get(User, run.approved_by_id) if run.approved_by_id else None
                if in_bulk:
                    session.execute(CHUNK_SETTINGS)
                    contract_ids, after = _claim_ids(session, run, after)
                    if not contract_ids:
                        session.rollback()
                        break
                    tariffs = tariffs or batch.TariffBook(session)
                    for outcome in _bill_chunk(session, actor, run, contract_ids, tariffs, quotes).values():
                        done["billed" if isinstance(outcome, batch.Billed) else "skipped"] += 1
                else:
                    rows = _claim(session, run)
                    if not rows:
                        session.rollback()
                        break
                    for row in rows:
                        done[_bill_one(session, actor, run, row)] += 1
                session.commit()
                if freezing:
                    chunks += 1
                    _collect_and_freeze(unfreeze=chunks % UNFREEZE_EVERY == 0)
        finally:
            if freezing:
                gc.unfreeze()
                gc.set_threshold(*threshold)
        _finish_if_done(session, run_id)
        return done


# Python's cyclic garbage collector walked every object the job keeps (the quote book's calculations, the
# tariffs, the app's) at each full collection: a third of a worker's CPU. After each chunk, what is left of it
# is collected, and whatever survives (kept for the next chunks) frozen out of later collections' walks; every
# UNFREEZE_EVERY chunks all is unfrozen and walked once, so that a cycle freed later is not kept for good. A
# chunk makes millions of short-lived objects, freed by their counts (none is left in a cycle): the youngest
# generation is collected every YOUNG_OBJECTS allocations instead of every 700 while the job runs.
UNFREEZE_EVERY = 50
YOUNG_OBJECTS = 20_000


def _collect_and_freeze(unfreeze: bool) -> None:
    if unfreeze:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


# For a chunk's transaction: its reads look up a few thousand ids by index in tables of millions of rows,
# whose estimates would otherwise have the planner hash whole tables (service points) or compile queries
# with JIT (~50 ms a chunk for nothing); the pages they read are cached, as the cost settles. The statement
# triggers' transition tables (2,000 bills of a few KB) stay in memory instead of spilling to temporary files.
CHUNK_SETTINGS = text(
    "SELECT set_config('jit', 'off', true), set_config('random_page_cost', '1.1', true), "
    "set_config('work_mem', '64MB', true)"
)


def _claim(session, run: BillingRun) -> list[BillingRunContract]:
    stmt = (
        select(BillingRunContract)
        .where(BillingRunContract.run_id == run.id, BillingRunContract.status == RunContractStatus.PENDING)
        .order_by(BillingRunContract.contract_id)
        .limit(run.chunk_size)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def _claim_ids(session, run: BillingRun, after: int) -> tuple[list[int], int]:
    """The next chunk of pending contracts past `after` (this worker's place in the list, so that a claim
    never walks the rows already done), locked, skipping those another worker holds; once past the end,
    one more sweep from the start picks up what a killed worker left pending behind it."""
    for start in (after, 0) if after else (0,):
        ids = list(
            session.scalars(
                select(BillingRunContract.contract_id)
                .where(
                    BillingRunContract.run_id == run.id,
                    BillingRunContract.status == RunContractStatus.PENDING,
                    BillingRunContract.contract_id > start,
                )
                .order_by(BillingRunContract.contract_id)
                .limit(run.chunk_size)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            return ids, ids[-1]
    return [], 0


def _bill_chunk(session, actor, run: BillingRun, contract_ids: list[int], tariffs, quotes) -> dict:
    """The claimed contracts billed at once and their rows marked. Should a bill collide with one issued
    meanwhile outside the run (the one-bill-per-period index), the chunk is billed again one by one."""
    changed = _meter_changed(session, contract_ids)
    try:
        with session.begin_nested():
            outcomes = batch.bill_chunk(
                session, actor, run, [c for c in contract_ids if c not in changed], tariffs, quotes
            )
            _mark(session, run, outcomes)
    except IntegrityError:
        return _bill_each(session, actor, run, contract_ids)
    # the batch does not add up a replaced meter's share: those go one by one
    return {**outcomes, **_bill_each(session, actor, run, sorted(changed))}


def _bill_each(session, actor, run: BillingRun, contract_ids: list[int]) -> dict:
    """Contracts billed one by one (`bills.issue`), each in its savepoint, their rows marked."""
    outcomes = {}
    for contract_id in contract_ids:
        row = session.get(BillingRunContract, (run.id, contract_id))
        if _bill_one(session, actor, run, row) == "billed":
            outcomes[contract_id] = batch.Billed(row.bill_pk, row.payable, row.total)
        else:
            outcomes[contract_id] = batch.Skipped(row.reason, row.detail)
    session.flush()
    return outcomes


def _meter_changed(session, contract_ids: list[int]) -> set[int]:
    """The contracts whose meter was taken off since their last bill (or their start): their next bill adds
    what the removed meter measured, which only the one-by-one path (`bills.issue`) knows how to do."""
    if not contract_ids:
        return set()
    last_billed = (
        select(func.max(Bill.period_end))
        .where(Bill.contract_id == Contract.id, Bill.status == BillStatus.ISSUED)
        .correlate(Contract)
        .scalar_subquery()
    )
    return set(
        session.scalars(
            select(Contract.id)
            .join(MeterInstallation, MeterInstallation.service_point_id == Contract.service_point_id)
            .where(
                Contract.id == batch.any_ids(contract_ids),
                MeterInstallation.removed_on.is_not(None),
                MeterInstallation.removed_on >= func.coalesce(last_billed, Contract.start_date),
            )
        ).all()
    )


def _mark(session, run: BillingRun, outcomes: dict) -> None:
    """Every claimed row marked billed (with its bill) or skipped (with its reason) in one UPDATE."""
    columns = {"contract": [], "status": [], "reason": [], "detail": [], "bill": [], "payable": [], "total": []}
    for contract_id, outcome in outcomes.items():
        billed = isinstance(outcome, batch.Billed)
        columns["contract"].append(contract_id)
        columns["status"].append(RunContractStatus.BILLED.value if billed else RunContractStatus.SKIPPED.value)
        columns["reason"].append("" if billed else outcome.reason)
        columns["detail"].append("" if billed else outcome.detail[:300])
        columns["bill"].append(outcome.bill_pk if billed else None)
        columns["payable"].append(outcome.payable if billed else None)
        columns["total"].append(outcome.total if billed else None)
    session.execute(
        text(
            "UPDATE billing_run_contracts AS b SET status = v.status, attempts = b.attempts + 1, updated_at = :now, "
            "reason = CASE WHEN v.status = 'skipped' THEN v.reason ELSE b.reason END, "
            "detail = CASE WHEN v.status = 'skipped' THEN v.detail ELSE b.detail END, "
            "bill_pk = COALESCE(v.bill, b.bill_pk), payable = COALESCE(v.payable, b.payable), "
            "total = COALESCE(v.total, b.total) "
            "FROM unnest(CAST(:contract AS bigint[]), CAST(:status AS text[]), CAST(:reason AS text[]), "
            "CAST(:detail AS text[]), CAST(:bill AS bigint[]), CAST(:payable AS bigint[]), CAST(:total AS bigint[])) "
            "AS v(contract_id, status, reason, detail, bill, payable, total) "
            "WHERE b.run_id = :run AND b.contract_id = v.contract_id"
        ),
        {**{name: pg_array(values) for name, values in columns.items()}, "run": run.id, "now": utcnow()},
    )


def _bill_one(session, actor, run: BillingRun, row: BillingRunContract) -> str:
    row.attempts += 1
    row.updated_at = utcnow()
    if (
        session.scalar(
            select(Bill.id).where(
                Bill.contract_id == row.contract_id, Bill.period == run.period, Bill.status == BillStatus.ISSUED
            )
        )
        is not None
    ):
        return _skip(row, "billing.already_billed", "")
    try:
        with session.begin_nested():
            bill = bills.issue(session, actor, row.contract_id, issued_on=run.issued_on, due_days=run.due_days)
            if bill.period != run.period:  # its latest reading lies outside the run's month
                raise DomainError("billing.reading_outside_period", period=bill.period)
    except IntegrityError:
        return _skip(row, "billing.already_billed", "")  # a concurrent bill of the same period won
    except DomainError as error:
        return _skip(row, error.code, _params_text(error))
    row.status, row.bill_pk, row.payable, row.total = RunContractStatus.BILLED, bill.id, bill.payable, bill.total
    return "billed"


def _skip(row: BillingRunContract, reason: str, detail: str) -> str:
    row.status, row.reason, row.detail = RunContractStatus.SKIPPED, reason, detail[:300]
    return "skipped"


def _params_text(error: DomainError) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(error.params.items()))


def _finish_if_done(session, run_id: int) -> bool:
    """The worker that sees no pending contract left closes the run — exactly one of them, by the guarded
    UPDATE — and announces it in the same transaction."""
    pending = session.scalar(
        select(
            exists().where(BillingRunContract.run_id == run_id, BillingRunContract.status == RunContractStatus.PENDING)
        )
    )
    if pending:
        session.rollback()
        return False
    closed = session.execute(
        update(BillingRun)
        .where(BillingRun.id == run_id, BillingRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.FINISHED, finished_at=utcnow())
    ).rowcount
    if closed:
        run = session.get(BillingRun, run_id)
        audit(session, None, "billing.run_finished", run, **progress(session, run_id))
        run_finished.send(None, session=session, run=run)
    session.commit()
    return bool(closed)


# --- What the pages show ----------------------------------------------------------------------------------------


def progress(session, run_id: int) -> dict:
    counts = dict(
        session.execute(
            select(BillingRunContract.status, func.count())
            .where(BillingRunContract.run_id == run_id)
            .group_by(BillingRunContract.status)
        )
        .tuples()
        .all()
    )
    run = session.get(BillingRun, run_id)
    billed, skipped = counts.get(RunContractStatus.BILLED, 0), counts.get(RunContractStatus.SKIPPED, 0)
    pending = counts.get(RunContractStatus.PENDING, 0)
    total = billed + skipped + pending
    rate = eta = None
    if run is not None and run.started_at is not None and billed + skipped:
        until = run.finished_at or datetime.now(run.started_at.tzinfo)
        seconds = max((until - run.started_at).total_seconds(), 0.001)
        rate = round((billed + skipped) / seconds, 1)
        eta = int(pending / rate) if rate and run.status == RunStatus.RUNNING else None
    return {
        "total": total,
        "billed": billed,
        "skipped": skipped,
        "pending": pending,
        "processed": billed + skipped,
        "rate": rate,
        "eta_seconds": eta,
    }


def exceptions(session, run_id: int, limit: int = 200) -> list[BillingRunContract]:
    return list(
        session.scalars(
            select(BillingRunContract)
            .where(BillingRunContract.run_id == run_id, BillingRunContract.status == RunContractStatus.SKIPPED)
            .order_by(BillingRunContract.reason, BillingRunContract.contract_id)
            .limit(limit)
        )
    )


def exception_counts(session, run_id: int) -> dict[str, int]:
    return dict(
        session.execute(
            select(BillingRunContract.reason, func.count())
            .where(BillingRunContract.run_id == run_id, BillingRunContract.status == RunContractStatus.SKIPPED)
            .group_by(BillingRunContract.reason)
        )
        .tuples()
        .all()
    )


def summary(session, run_id: int) -> list[dict]:
    """Totals of the run's bills by tariff type and region."""
    rows = (
        session.execute(
            select(
                TariffType.name,
                Region.name,
                func.count(Bill.id),
                func.sum(Bill.charges),
                func.sum(Bill.vat),
                func.sum(Bill.levies),
                func.sum(Bill.total),
                func.sum(Bill.payable),
            )
            .join(BillingRunContract, BillingRunContract.bill_pk == Bill.id)
            .join(TariffType, TariffType.id == Bill.tariff_type_id)
            .join(Region, Region.id == Bill.region_id)
            .where(BillingRunContract.run_id == run_id)
            .group_by(TariffType.name, Region.name)
            .order_by(TariffType.name, Region.name)
        )
        .tuples()
        .all()
    )
    keys = ("tariff_type", "region", "bills", "charges", "vat", "levies", "total", "payable")
    return [dict(zip(keys, (*row[:2], *(int(v or 0) for v in row[2:])), strict=True)) for row in rows]


def export_rows(session, run_id: int, chunk: int = 2000):
    """The bank's and the printing house's file: one row per bill of the run, in contract order."""
    from subscribers.models import Premise

    last = 0
    while True:
        bills_ = (
            session.execute(
                select(Bill, Contract)
                .join(BillingRunContract, BillingRunContract.bill_pk == Bill.id)
                .join(Contract, Contract.id == Bill.contract_id)
                .where(BillingRunContract.run_id == run_id, Bill.contract_id > last)
                .order_by(Bill.contract_id)
                .limit(chunk)
            )
            .tuples()
            .all()
        )
        if not bills_:
            return
        for bill, contract in bills_:
            premise: Premise = contract.service_point.premise
            yield {
                "bill_id": bill.bill_id,
                "payment_id": bill.payment_id,
                "amount": bill.payable,
                "due_date": bill.due_on,
                "subscriber": contract.subscriber.display_name,
                "address": premise.address if premise else "",
            }
        last = bills_[-1][0].contract_id
