"""A Hypothesis state machine against the real database: bills, payments with colliding bank
references, adjustments and reversals in any order, with the books checked after every step."""

from datetime import date

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.errors import Conflict, DomainError
from core.identifiers import make_payment_id
from ledger import adjustments, payments
from ledger.models import Account, Allocation, Charge, Journal, JournalKind, Payment, Posting
from ledger.payments import DUPLICATE, POSTED, PaymentRequest, post_payment, post_payments
from ledger.reversal import reverse
from tests.test_ledger import TODAY, bill_id_of, check_books, issue_bill, open_account

CONTRACTS = (8000501, 8000502, 8000503)  # beyond any demo contract id
contracts = st.sampled_from(CONTRACTS)
amounts = st.integers(min_value=1, max_value=3_000_000)


def test_the_books_stay_exact_whatever_happens(session, demo):
    actor = demo["finance"]

    class Ledger(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = session.begin_nested()
            for contract_id in CONTRACTS:
                open_account(session, actor, contract_id)
            self.periods = 0
            self.payments: dict[str, tuple] = {}  # bank reference → (what was paid, its journal)
            self.journals: list[int] = []
            self.reversed: set[int] = set()

        def teardown(self):
            self.savepoint.rollback()

        def attempt(self, operation):
            with session.begin_nested():
                return operation()

        @rule(contract_id=contracts, energy=amounts, vat=st.integers(0, 300_000))
        def bill(self, contract_id, energy, vat):
            self.periods += 1
            posted = self.attempt(lambda: issue_bill(session, actor, contract_id, energy, vat=vat,
                                                     due_on=date(2025, 1, 1 + self.periods % 28),
                                                     period=f"P{self.periods}"))
            self.journals.append(posted.journal_id)

        @rule(contract_id=contracts, amount=amounts, reference=st.sampled_from(["R1", "R2", "R3", "R4", "R5", "R6"]))
        def payment(self, contract_id, amount, reference):
            request = PaymentRequest("bank", reference, amount, TODAY, contract_id=contract_id)
            earlier = self.payments.get(reference)
            try:
                result = self.attempt(lambda: post_payment(session, actor, request))
            except DomainError as error:
                assert error.code == "ledger.idempotency_conflict"
                assert earlier is not None and earlier[0] != (contract_id, amount)
                return
            if earlier is None:
                assert result.status == POSTED
                self.payments[reference] = ((contract_id, amount), result.journal_id)
                self.journals.append(result.journal_id)
            else:
                assert earlier[0] == (contract_id, amount)
                assert result.status == DUPLICATE and result.journal_id == earlier[1]

        @rule(contract_id=contracts, amount=st.integers(-2_000_000, 2_000_000).filter(bool))
        def adjustment(self, contract_id, amount):
            posted = self.attempt(lambda: adjustments.adjust(session, actor, contract_id, amount, "اصلاح", TODAY))
            self.journals.append(posted.journal_id)

        @rule(data=st.data())
        def reversal(self, data):
            if not self.journals:
                return
            journal_id = data.draw(st.sampled_from(self.journals))
            try:
                posted = self.attempt(lambda: reverse(session, actor, journal_id, "برگشت", TODAY))
            except Conflict:
                assert journal_id in self.reversed
                return
            assert journal_id not in self.reversed
            self.reversed.add(journal_id)
            session.expire_all()
            assert session.get(Journal, posted.journal_id).kind == JournalKind.REVERSAL

        @invariant()
        def books_balance(self):
            check_books(session)

        @invariant()
        def idempotency_and_single_reversal_hold(self):
            payments = session.scalar(select(func.count()).select_from(Journal).where(Journal.kind == "payment"))
            assert payments == len(self.payments)
            twice = session.execute(select(Journal.reverses_id).where(Journal.reverses_id.is_not(None))
                                    .group_by(Journal.reverses_id).having(func.count() > 1)).all()
            assert twice == []
            assert session.scalar(select(func.count()).select_from(Journal)
                                  .where(Journal.kind == JournalKind.REVERSAL)) == len(self.reversed)

    run_state_machine_as_test(Ledger, settings=settings(
        max_examples=15, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))


# On PostgreSQL payments are posted by a database function (one round trip for a whole batch); the
# portable statements (SQLite) follow the same rules. Both must leave the same books, and a batch
# must post exactly as its payments would one by one.

REFERENCES = ("A", "B", "C", "D", "E")


def _ranks(session, after: int) -> dict:
    """{journal id: its rank} for the journals after `after`: two runs number theirs alike (a rolled-back
    run still used up its ids)."""
    ids = session.scalars(select(Journal.id).where(Journal.id > after).order_by(Journal.id)).all()
    return {journal_id: rank for rank, journal_id in enumerate(ids)}


def _books(session, after: int) -> dict:
    """What a user could check after posting: each journal's postings and the charges it settled, the
    balances, the payments and their audit entries."""
    rank = _ranks(session, after)

    def rel(journal_id):
        return rank[journal_id]

    journals = session.execute(select(Journal.id, Journal.kind, Journal.contract_id, Journal.idempotency_key,
                                      Journal.fingerprint, Journal.reason)
                               .where(Journal.id > after).order_by(Journal.id)).all()
    postings = session.execute(select(Posting.journal_id, Account.code, Posting.amount, Posting.line)
                               .join(Account, Account.id == Posting.account_id)
                               .where(Posting.journal_id > after).order_by(Posting.id)).all()
    allocations = session.execute(select(Allocation.journal_id, Charge.period, Allocation.amount)
                                  .join(Charge, Charge.id == Allocation.charge_id)
                                  .where(Allocation.journal_id > after).order_by(Allocation.id)).all()
    payments = session.execute(select(Payment.journal_id, Payment.channel, Payment.reference, Payment.amount,
                                      Payment.contract_id, Payment.bill_id, Payment.payment_id, Payment.paid_on)
                               .where(Payment.journal_id > after).order_by(Payment.journal_id)).all()
    entries = session.execute(select(AuditEntry.object_id, AuditEntry.actor_id, AuditEntry.detail)
                              .where(AuditEntry.action == "ledger.payment_posted")
                              .order_by(AuditEntry.object_id)).all()
    return {
        "journals": [(rel(j), *rest) for j, *rest in journals],
        "postings": [(rel(j), code, amount, line) for j, code, amount, line in postings],
        "allocations": [(rel(j), period, amount) for j, period, amount in allocations],
        "payments": [(rel(j), *rest) for j, *rest in payments],
        "audit": sorted((rel(int(o)), actor, sorted(detail.items())) for o, actor, detail in entries
                        if int(o) > after),
        "balances": dict(session.execute(select(Account.contract_id, Account.balance)
                                         .where(Account.contract_id.in_(CONTRACTS))).tuples().all()),
    }


def _outcome(session, results, after: int):
    rank = _ranks(session, after)
    return [(r.status, rank.get(r.journal_id), r.contract_id, r.amount, r.settled_bill_ids,
             r.error.code if r.error else None) for r in results]


def test_a_batch_posts_as_one_by_one_and_as_the_portable_path(session, demo, monkeypatch):
    actor = demo["finance"]
    for contract_id in CONTRACTS:
        open_account(session, actor, contract_id)
    session.flush()
    payments_by = st.tuples(st.sampled_from([*CONTRACTS, 8009999]), st.integers(1, 900_000),
                            st.sampled_from(REFERENCES),
                            st.sampled_from(["contract", "bill", "bill"]))

    @settings(max_examples=12, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(bills=st.lists(st.tuples(st.sampled_from(CONTRACTS), st.integers(1, 700) .map(lambda k: k * 1000)),
                          max_size=5),
           paid=st.lists(payments_by, min_size=1, max_size=8))
    def check(bills, paid):
        requests = []
        for contract_id, amount, reference, how in paid:
            if how == "contract":
                requests.append(PaymentRequest("bank", reference, amount, TODAY, contract_id=contract_id))
            else:  # by bill ID and payment ID; 8009999 has no account: its money waits in suspense
                amount = -(-amount // 1000) * 1000
                bill_id = bill_id_of(contract_id)
                requests.append(PaymentRequest("bank", reference, amount, TODAY, bill_id=bill_id,
                                               payment_id=make_payment_id(amount, 1403, 12, bill_id)))
        runs = {}
        for way in ("batch", "one by one", "portable"):
            with session.begin_nested() as savepoint:
                for n, (contract_id, amount) in enumerate(bills):
                    issue_bill(session, actor, contract_id, amount, due_on=date(2025, 1, 1 + n), period=f"P{n}")
                after = session.scalar(select(func.coalesce(func.max(Journal.id), 0)))
                if way == "one by one":
                    results = [post_payments(session, actor, [request])[0] for request in requests]
                else:
                    with monkeypatch.context() as patch:
                        if way == "portable":
                            patch.setattr(payments, "is_postgresql", lambda _session: False)
                        results = post_payments(session, actor, requests)
                check_books(session)
                runs[way] = (_outcome(session, results, after), _books(session, after))
                savepoint.rollback()
        assert runs["batch"] == runs["portable"]
        assert runs["batch"] == runs["one by one"]

    check()
