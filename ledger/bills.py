"""What billing asks of the ledger: the balance brought forward, and a bill posted as one journal."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from core.errors import DomainError
from core.identifiers import is_payment_id, payment_id_amount
from core.text import digits_only
from ledger.accounts import lock_contract_account, system_account_id
from ledger.journals import NewCharge, post_contract_journal
from ledger.models import Account, AccountKind, JournalKind, Posting
from ledger.posting import JournalDraft, existing_journals, fingerprint, replay


@dataclass(frozen=True)
class BillPosted:
    journal_id: int
    new: bool
    charged: int  # what the bill adds to the contract's debt
    rounding: int  # the rials under 1,000 forgone
    payable: int  # what the subscriber is asked to pay: the new balance, when positive
    balance: int | None


def balance_brought_forward(session, contract_id: int) -> int:
    """The contract's balance before its next bill: debt positive, credit negative."""
    balance = session.scalar(select(Account.balance).where(Account.contract_id == contract_id))
    if balance is None:
        raise DomainError("ledger.no_account", contract_id=contract_id)
    return balance


def bill_payable(brought_forward: int, charges_total: int) -> tuple[int, int]:
    """(payable, rounding): the payable floored to 1,000 rials (a payment ID encodes whole thousands), the
    rials under a thousand forgone from this bill's charges — never more than they are: when the bill is
    smaller than the odd rials of the balance brought forward, the rest stays owed for the next bill.
    A contract in credit pays nothing."""
    exact = brought_forward + charges_total
    if exact <= 0:
        return 0, 0
    return exact - exact % 1000, min(exact % 1000, charges_total)


def post_bill(session, actor, contract_id: int, *, bill_id: str, period: str, issued_on: date, due_on: date,
              lines: dict[str, int], vat: int = 0, levies: dict[str, int] | None = None,
              payment_id: str = "", key: str | None = None, audited: bool = True) -> BillPosted:
    """A bill as one journal: each charge type credited to its revenue account, VAT and levies to
    theirs, the contract debited with the total less the rounding. Posting the same bill (same key)
    again returns the first posting; the payment ID, when given, must encode the payable. `audited=False`:
    the caller audits the bill itself, naming the journal (post_contract_journal's `audited`)."""
    levies = levies or {}
    amounts = [*lines.values(), vat, *levies.values()]
    if any(not isinstance(a, int) or isinstance(a, bool) or a < 0 for a in amounts) or sum(amounts) <= 0:
        raise DomainError("ledger.bill_lines_invalid")
    bill_id, payment_id = digits_only(bill_id), digits_only(payment_id)
    key = key or f"bill:{contract_id}:{period}:{bill_id}"
    print_ = fingerprint(bill_id, period, issued_on, due_on, sorted(lines.items()), vat, sorted(levies.items()),
                         payment_id)
    if (earlier := existing_journals(session, [key])).get(key):
        return _replayed(session, key, print_, earlier[key])
    account = lock_contract_account(session, contract_id)
    total = sum(amounts)
    payable, rounding = bill_payable(account.balance, total)
    if payment_id and (not is_payment_id(bill_id, payment_id) or payment_id_amount(payment_id) != payable):
        raise DomainError("ledger.bill_payment_id_differs", payable=payable)
    charged = total - rounding
    postings = [(system_account_id(session, AccountKind.REVENUE, kind), -amount, kind)
                for kind, amount in lines.items() if amount]
    if vat:
        postings.append((system_account_id(session, AccountKind.VAT), -vat, "vat"))
    postings += [(system_account_id(session, AccountKind.LEVY, name), -amount, f"levy:{name}")
                 for name, amount in levies.items() if amount]
    if rounding:
        postings.append((system_account_id(session, AccountKind.ROUNDING), rounding, "rounding"))
    charge = None
    if charged:
        postings.append((account.id, charged, "bill"))
        charge = NewCharge(JournalKind.BILL, charged, due_on, bill_id, payment_id, period)
    draft = JournalDraft(JournalKind.BILL, contract_id, issued_on, key=key, fingerprint=print_,
                         reason=f"{period} {bill_id}")
    posted = post_contract_journal(session, actor, account, draft, postings, charge, audited=audited,
                                   bill_id=bill_id, period=period)
    if not posted.new:  # a concurrent request with the same key committed first
        return _replayed(session, key, print_, (posted.journal_id, print_))
    return BillPosted(posted.journal_id, True, charged, rounding, payable, posted.balance)


def _replayed(session, key, print_, earlier) -> BillPosted:
    journal_id = replay(session, key, print_)
    lines = dict(session.execute(select(Posting.line, Posting.amount).where(
        Posting.journal_id == journal_id, Posting.line.in_(["bill", "rounding"]))).tuples().all())
    return BillPosted(journal_id, False, lines.get("bill", 0), lines.get("rounding", 0), 0, None)
