"""A Hypothesis state machine against the real database: bills, payments with colliding bank
references, adjustments and reversals in any order, with the books checked after every step."""

from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from core.errors import Conflict, DomainError
from ledger import adjustments
from ledger.models import Journal, JournalKind
from ledger.payments import DUPLICATE, POSTED, PaymentRequest, post_payment
from ledger.reversal import reverse
from tests.test_ledger import TODAY, check_books, issue_bill, open_account

CONTRACTS = (501, 502, 503)
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
