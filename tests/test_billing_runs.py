"""General bill issuance: a run bills each contract of its scope at most once, skips the exceptions with
their reasons, bills them once they are fixed, and never overlaps another run."""

import gc

import pytest
from sqlalchemy import func, select

from billing import bills, readings, runs
from billing.models import Bill, BillStatus, MeterReading
from billing.run_models import BillingRunContract, RunStatus
from core.errors import Conflict, DomainError
from core.regions import Region
from ledger.models import Account, Posting
from tests.billing_run_support import ISSUED, PERIOD, billable_contracts


@pytest.fixture
def scope(session, demo):
    contracts = billable_contracts(session, demo["billing"])
    region = session.scalar(select(Region).where(Region.code == "shiraz-1"))
    return contracts, region


def _create(session, demo, region, **kwargs):
    return runs.create_run(session, demo["billing"], utility="electricity", period=PERIOD, region_ids=[region.id],
                           issued_on=ISSUED, **kwargs)


def _run_to_end(session, demo, run):
    runs.approve(session, demo["supervisor"], run.id)
    runs.start(session, demo["supervisor"], run.id)
    session.commit()
    runs.work(run.id)
    session.expire_all()


def test_the_preview_counts_the_exceptions_and_the_bills_to_come(session, demo, scope):
    contracts, region = scope
    run = _create(session, demo, region)
    preview = run.preview
    assert run.total == len(contracts) and run.status == RunStatus.PREVIEWED
    assert preview["exceptions"] == {"billing.no_new_reading": 1, "billing.reading_flagged": 1}
    assert preview["ready"] == len(contracts) - 2 and preview["estimate"] is False
    expected = sum(bills.prepare(session, c.id).quote.payable for c in contracts[2:])
    assert preview["expected"]["payable"] == expected > 0


def test_a_run_bills_each_ready_contract_once_and_skips_the_rest_with_their_reasons(session, demo, scope):
    contracts, region = scope
    drafts = {c.id: bills.prepare(session, c.id).quote for c in contracts[2:]}
    run = _create(session, demo, region)
    _run_to_end(session, demo, run)
    assert run.status == RunStatus.FINISHED and run.finished_at is not None
    done = runs.progress(session, run.id)
    assert (done["billed"], done["skipped"], done["pending"]) == (len(contracts) - 2, 2, 0)
    assert runs.exception_counts(session, run.id) == {"billing.no_new_reading": 1, "billing.reading_flagged": 1}
    issued = session.scalars(select(Bill).where(Bill.period == PERIOD, Bill.status == BillStatus.ISSUED)).all()
    assert {b.contract_id: b.payable for b in issued} == {cid: q.payable for cid, q in drafts.items()}
    for bill in issued:  # each bill is in the ledger: the contract owes exactly the bill
        balance = session.scalar(select(Account.balance).where(Account.contract_id == bill.contract_id))
        assert balance == bill.total - bill.rounding
    assert session.scalar(select(func.sum(Posting.amount))) == 0
    summary = runs.summary(session, run.id)
    assert sum(row["bills"] for row in summary) == len(issued)
    assert sum(row["payable"] for row in summary) == sum(b.payable for b in issued)
    rows = list(runs.export_rows(session, run.id))
    assert len(rows) == len(issued) and all(r["bill_id"] and r["subscriber"] and r["address"] for r in rows)


def test_fixed_exceptions_are_billed_on_a_rerun_and_nothing_twice(session, demo, scope):
    contracts, region = scope
    run = _create(session, demo, region)
    _run_to_end(session, demo, run)
    flagged = session.scalars(select(MeterReading).where(MeterReading.contract_id == contracts[1].id,
                                                         MeterReading.opening.is_(False))).all()
    for reading in flagged:
        readings.override(session, demo["billing"], reading.id, "کنتور تعویض شده و شمارنده از نو آغاز شده")
    from tests.billing_run_support import CLOSING, read

    read(session, demo["billing"], contracts[0], CLOSING, 5400)
    runs.rerun_skipped(session, demo["billing"], run.id)
    session.commit()
    runs.work(run.id)
    session.expire_all()
    done = runs.progress(session, run.id)
    assert (done["billed"], done["skipped"]) == (len(contracts), 0)
    counts = session.execute(select(Bill.contract_id, func.count()).where(Bill.period == PERIOD)
                             .group_by(Bill.contract_id)).tuples().all()
    assert len(counts) == len(contracts) and {n for _cid, n in counts} == {1}


def test_who_scoped_a_run_does_not_approve_it(session, demo, scope):
    _contracts, region = scope
    run = _create(session, demo, region)
    with pytest.raises(DomainError) as refused:
        runs.approve(session, demo["billing"], run.id)
    assert refused.value.code == "billing.run_approver_same"


def test_an_overlapping_run_is_refused_and_a_later_one_skips_what_is_billed(session, demo, scope):
    contracts, region = scope
    first = _create(session, demo, region)
    company = session.scalar(select(Region).where(Region.code == "demo"))
    with pytest.raises(Conflict):
        _create(session, demo, company)  # the company's scope holds shiraz-1's contracts
    _run_to_end(session, demo, first)
    runs.publish(session, demo["billing"], first.id)
    second = _create(session, demo, region)
    assert second.preview["exceptions"]["billing.already_billed"] == len(contracts) - 2
    _run_to_end(session, demo, second)
    assert runs.exception_counts(session, second.id)["billing.already_billed"] == len(contracts) - 2
    assert session.scalar(select(func.count()).select_from(Bill).where(Bill.period == PERIOD)) == len(contracts) - 2


def test_a_bad_scope_names_its_field(session, demo, scope):
    _contracts, region = scope
    for kwargs, field in (({"period": "1404/13"}, "period"), ({"region_ids": []}, "regions"),
                          ({"utility": "steam"}, "utility")):
        arguments = {"utility": "electricity", "period": PERIOD, "region_ids": [region.id], **kwargs}
        with pytest.raises(DomainError) as refused:
            runs.create_run(session, demo["billing"], issued_on=ISSUED, **arguments)
        assert refused.value.field == field
    assert session.scalar(select(func.count()).select_from(BillingRunContract)) == 0


def test_a_meter_replaced_in_the_period_is_billed_for_both_meters_in_a_run(session, demo, scope):
    """The run bills the old meter's share up to its final reading too, like a bill issued by hand."""
    from datetime import date

    from billing.readings import installed_meter
    from subscribers import meter_ops
    from tests.billing_run_support import CLOSING, OPENING

    contracts, region = scope
    changed = contracts[2]
    old = installed_meter(session, changed).meter
    new = meter_ops.register_meter(session, demo["technician"], {
        "serial": "RUN-NEW-0001", "utility": "electricity", "kind": "digital", "region_id": old.region_id})
    session.execute(MeterReading.__table__.delete().where(MeterReading.contract_id == changed.id,
                                                          MeterReading.read_on == CLOSING))
    registers = {r: 5000 + 120 for r in installed_meter(session, changed).registers}
    meter_ops.replace_meter(session, demo["technician"], changed.service_point_id, new.id, date(2025, 7, 30),
                            final_readings=registers, initial_readings={"single": 10})
    readings.record_reading(session, demo["billing"], changed.id, "single", CLOSING, 90)
    session.flush()
    assert OPENING < date(2025, 7, 30) < CLOSING
    run = _create(session, demo, region)
    _run_to_end(session, demo, run)
    bill = session.scalar(select(Bill).where(Bill.contract_id == changed.id, Bill.period == PERIOD))
    assert bill is not None and bill.usage["registers"] == {"total": 120 + 80}
    assert runs.progress(session, run.id)["billed"] == len(contracts) - 2


def test_a_run_leaves_the_garbage_collector_as_it_found_it(session, demo, scope):
    """work() freezes what survives each chunk and collects the youngest objects less often while it runs;
    a web process that called it in-process gets its collector back as it was."""
    _contracts, region = scope
    before = gc.get_threshold()
    run = _create(session, demo, region)
    _run_to_end(session, demo, run)
    assert runs.progress(session, run.id)["billed"] > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
