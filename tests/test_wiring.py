"""A payment booked in the ledger wakes the procedure waiting for it, in the same transaction."""

from datetime import date

from sqlalchemy import select

from engine import cartable, runtime
from engine.models import InstanceEvent, WorkItem
from ledger.accounts import open_contract_account
from ledger.payments import PaymentRequest, post_payment
from tests.engine_support import deploy_test_request, region


def test_a_posted_payment_moves_the_waiting_request_on(app, session, demo):
    deploy_test_request(session, demo["analyst"], **{'name="fee_paid"': 'name="payment_received"'})
    home = region(session, "shiraz-1")
    instance = runtime.start_instance(session, demo["clerk"], "test_request", home, contract_id=9001)
    open_contract_account(session, demo["finance"], 9001, home.id)
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 4})
    assert instance.status == "waiting"
    post_payment(session, demo["finance"], PaymentRequest(channel="bank", reference="BANK-77", amount=100_000,
                                                          paid_on=date(2026, 11, 28), contract_id=9001))
    assert instance.status == "running"
    caught = session.scalar(select(InstanceEvent).where(InstanceEvent.action == "message_caught"))
    assert caught.note == "payment_received" and caught.data["reference"] == "BANK-77"
    assert caught.data["amount"] == 100_000


def test_opening_a_contract_opens_its_account_in_the_ledger(session, demo):
    from ledger.queries import account_of
    from subscribers.contract_ops import close_contract, open_contract
    from subscribers.models import Contract

    old = session.scalar(select(Contract).order_by(Contract.id))
    assert account_of(session, old.id) is not None  # the demo's contracts have theirs
    close_contract(session, demo["clerk"], old.id, date(2026, 11, 1))
    new = open_contract(session, demo["clerk"], old.subscriber_id, old.service_point_id, date(2026, 11, 2),
                        {"tariff_type": old.tariff_type})
    account = account_of(session, new.id)
    assert account is not None and account.region_id == new.region_id and account.balance == 0


def test_a_payment_wait_made_after_an_earlier_payment_in_the_same_transaction_is_still_woken(session, demo):
    """The listener reads the waiting contracts once per transaction; a wait added later is not missed."""
    from engine.models import MessageWait
    from madam.wiring import _payment_waits

    deploy_test_request(session)
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    assert "424242" not in _payment_waits(session)
    session.add(MessageWait(instance_id=instance.id, task_id="t" * 36, name="payment_received",
                            business_key=instance.business_key, contract_id=424242))
    session.flush()
    assert "424242" in _payment_waits(session)


def test_a_single_payment_learns_in_its_own_statement_whether_a_procedure_waits_for_it(
        app, session, demo, monkeypatch):
    """A bank callback posts one payment: whether anything waits for the contract's money is read by the
    posting statement itself, not by a read of every payment wait; the answer still wakes the request."""
    from madam import wiring

    deploy_test_request(session, demo["analyst"], **{'name="fee_paid"': 'name="payment_received"'})
    home = region(session, "shiraz-1")
    instance = runtime.start_instance(session, demo["clerk"], "test_request", home, contract_id=9001)
    open_contract_account(session, demo["finance"], 9001, home.id)
    open_contract_account(session, demo["finance"], 9002, home.id)
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 4})
    assert instance.status == "waiting"

    def no_full_read(_session):
        raise AssertionError("a single payment read every payment wait")

    monkeypatch.setattr(wiring, "_payment_waits", no_full_read)
    post_payment(session, demo["finance"], PaymentRequest(channel="bank", reference="BANK-78", amount=5_000,
                                                          paid_on=date(2026, 11, 28), contract_id=9002))
    assert instance.status == "waiting"  # another contract's money
    post_payment(session, demo["finance"], PaymentRequest(channel="bank", reference="BANK-79", amount=7_000,
                                                          paid_on=date(2026, 11, 28), contract_id=9001))
    assert instance.status == "running"
    caught = session.scalar(select(InstanceEvent).where(InstanceEvent.action == "message_caught"))
    assert caught.data["reference"] == "BANK-79"


def _waiting_request(session, demo, contract_id: int):
    """A request that waits for the contract's payment (its account opened)."""
    home = region(session, "shiraz-1")
    instance = runtime.start_instance(session, demo["clerk"], "test_request", home, contract_id=contract_id)
    open_contract_account(session, demo["finance"], contract_id, home.id)
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 4})
    assert instance.status == "waiting"
    return instance


def _paid(contract_id: int, reference: str) -> PaymentRequest:
    return PaymentRequest(channel="bank", reference=reference, amount=5_000, paid_on=date(2026, 11, 28),
                          contract_id=contract_id)


def test_a_bank_files_chunk_learns_in_its_own_statement_which_payments_a_procedure_waits_for(
        app, session, demo, monkeypatch):
    """A chunk of a bank file reads, in the statement that posts it, whether a procedure waits for each
    payment's contract, not every payment wait of the database; the answer still wakes the request."""
    from ledger.payments import post_payments
    from madam import wiring

    deploy_test_request(session, demo["analyst"], **{'name="fee_paid"': 'name="payment_received"'})
    waiting = _waiting_request(session, demo, 9001)
    open_contract_account(session, demo["finance"], 9002, region(session, "shiraz-1").id)

    def no_full_read(_session):
        raise AssertionError("the chunk read every payment wait")

    monkeypatch.setattr(wiring, "_payment_waits", no_full_read)
    results = post_payments(session, demo["finance"], [_paid(9002, "F-1"), _paid(9001, "F-2")])
    assert [r.status for r in results] == ["posted", "posted"]
    assert waiting.status == "running"


def test_a_wait_that_appears_after_a_chunk_was_posted_still_catches_a_later_payment_of_the_chunk(
        app, session, demo, monkeypatch):
    """The chunk's reads are made as its statement ends. When an earlier payment of the chunk wakes a
    procedure, the procedure may wait anew, for another contract of the same chunk: that payment must not go
    by on the statement's earlier answer."""
    from engine.models import MessageWait
    from ledger.payments import post_payments
    from madam import wiring

    deploy_test_request(session, demo["analyst"], **{'name="fee_paid"': 'name="payment_received"'})
    first = _waiting_request(session, demo, 9001)
    later = _waiting_request(session, demo, 9003)
    # `later`'s wait is taken away before the chunk and put back when `first` is woken, as if waking
    # `first` had made it
    wait = session.scalar(select(MessageWait).where(MessageWait.instance_id == later.id))
    kept = {c: getattr(wait, c) for c in ("instance_id", "task_id", "name", "business_key", "contract_id")}
    session.delete(wait)
    session.flush()
    real_send = wiring.send_message

    def send_and_wait_anew(session_, actor, name, correlation, payload=None):
        woken = real_send(session_, actor, name, correlation, payload)
        if first.id in woken:
            session_.add(MessageWait(**kept))
            session_.flush()
        return woken

    monkeypatch.setattr(wiring, "send_message", send_and_wait_anew)
    post_payments(session, demo["finance"], [_paid(9001, "F-3"), _paid(9003, "F-4")])
    assert first.status == "running"
    assert later.status == "running"
