"""The references the hot tables' statement triggers check on PostgreSQL (migration 5c4ed0000005) instead of
foreign keys: a posting, an open item or a bill that names a missing row is refused, by INSERT, by COPY and by
UPDATE; a row that is referred to cannot be deleted, re-keyed or truncated away — as with the constraints."""

from datetime import date

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.regions import Region
from ledger import bills
from ledger.accounts import open_contract_account
from ledger.bill_batch import copy_rows
from ledger.models import Account, Journal, Posting
from madam.demo import load_demo

TODAY = date(2025, 3, 1)
MISSING = 987_654_321


def bill(session, contract_id=8001001):
    """A contract account and a bill posted on it: (account id, journal id)."""
    region_id = session.scalar(select(Region.id).where(Region.code == "shiraz-1"))
    account = open_contract_account(session, None, contract_id, region_id)
    posted = bills.post_bill(session, None, contract_id, bill_id="", period="1403/12", issued_on=TODAY,
                             due_on=TODAY, lines={"energy": 250_000})
    return account.id, posted.journal_id


def refused(session, statement: str, **params) -> str:
    """The database's refusal of `statement` (in a savepoint, rolled back)."""
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        session.execute(text(statement), params)
    return str(caught.value.orig)


def posting_pair(journal_id, account_id, other_account_id):
    return [(journal_id, account_id, 1_000, "test"), (journal_id, other_account_id, -1_000, "test")]


def test_a_posting_to_a_missing_account_or_journal_is_refused_by_insert(session, demo):
    account_id, journal_id = bill(session)
    message = refused(session, "INSERT INTO ledger_postings (journal_id, account_id, amount, line) "
                               "VALUES (:j, :a, 1000, 'x'), (:j, :missing, -1000, 'x')",
                      j=journal_id, a=account_id, missing=MISSING)
    assert f"account_id = {MISSING} is not in ledger_accounts" in message
    message = refused(session, "INSERT INTO ledger_postings (journal_id, account_id, amount, line) "
                               "VALUES (:missing, :a, 1000, 'x'), (:missing, :a, -1000, 'x')",
                      a=account_id, missing=MISSING)
    assert f"journal_id = {MISSING} is not in ledger_journals" in message
    # the same rows with existing references are taken
    session.execute(text("INSERT INTO ledger_postings (journal_id, account_id, amount, line) "
                         "VALUES (:j, :a, 1000, 'x'), (:j, :a, -1000, 'x')"), {"j": journal_id, "a": account_id})


def test_a_posting_to_a_missing_account_is_refused_by_copy(session, demo):
    account_id, journal_id = bill(session)
    columns = ("journal_id", "account_id", "amount", "line")
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        copy_rows(session, Posting.__tablename__, columns, posting_pair(journal_id, account_id, MISSING))
    assert f"account_id = {MISSING} is not in ledger_accounts" in str(caught.value.orig)
    with session.begin_nested():
        copy_rows(session, Posting.__tablename__, columns, posting_pair(journal_id, account_id, account_id))
    assert session.scalar(select(Posting.id).where(Posting.line == "test").limit(1)) is not None


def test_an_open_item_and_a_bill_naming_missing_rows_are_refused(session, demo):
    _account_id, journal_id = bill(session)
    message = refused(session, "INSERT INTO ledger_charges (journal_id, account_id, kind, amount, due_on, bill_id, "
                               "payment_id, period) VALUES (:j, :missing, 'bill', 1000, '2025-03-01', '', '', '')",
                      j=journal_id, missing=MISSING)
    assert "ledger_accounts" in message
    contract = session.execute(text("SELECT id, region_id FROM contracts LIMIT 1")).first()
    columns = ("contract_id", "region_id", "tariff_type_id", "tariff_code", "period", "period_start", "period_end",
               "status", "bill_id", "payment_id", "issued_on", "due_on", "usage", "readings", "version_ids", "quote",
               "charges", "vat", "levies", "total", "brought_forward", "rounding", "payable", "journal_id",
               "sequence", "created_at", "cancel_reason")

    def row(contract_id, tariff_type_id):
        return (contract_id, contract.region_id if contract else 1, tariff_type_id, "E1", "1403/12", TODAY, TODAY,
                "issued", "", "", TODAY, TODAY, "{}", "{}", "[]", "{}", 0, 0, 0, 0, 0, 0, 0, journal_id, 1, TODAY, "")

    type_id = session.execute(text("SELECT min(id) FROM billing_tariff_types")).scalar()
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        copy_rows(session, "billing_bills", columns, [row(MISSING, type_id)])
    assert f"contract_id = {MISSING} is not in contracts" in str(caught.value.orig)
    if contract is not None:
        with pytest.raises(IntegrityError) as caught, session.begin_nested():
            copy_rows(session, "billing_bills", columns, [row(contract.id, MISSING)])
        assert "billing_tariff_types" in str(caught.value.orig)


def test_an_account_with_postings_cannot_be_deleted_nor_rekeyed_and_one_without_can(session, demo):
    account_id, _journal_id = bill(session)
    assert "still referenced from ledger_postings.account_id" in refused(
        session, "DELETE FROM ledger_accounts WHERE id = :a", a=account_id)
    assert "still referenced" in refused(session, "UPDATE ledger_accounts SET id = :missing WHERE id = :a",
                                         a=account_id, missing=MISSING)
    assert session.get(Account, account_id) is not None
    region_id = session.scalar(select(Region.id).where(Region.code == "shiraz-1"))
    unused = open_contract_account(session, None, 8001002, region_id)
    session.flush()
    session.execute(text("UPDATE ledger_accounts SET balance = balance WHERE id = :a"), {"a": account_id})
    session.execute(text("DELETE FROM ledger_accounts WHERE id = :a"), {"a": unused.id})
    assert session.get(Account, unused.id, populate_existing=True) is None


def test_a_journal_with_postings_cannot_go_and_a_referenced_table_cannot_be_truncated(session, demo):
    _account_id, journal_id = bill(session)
    with pytest.raises(DBAPIError), session.begin_nested():  # the append-only trigger refuses first
        session.execute(text("DELETE FROM ledger_journals WHERE id = :j"), {"j": journal_id})
    assert session.get(Journal, journal_id) is not None
    assert "refers to it" in refused(session, "TRUNCATE ledger_accounts CASCADE")


def _url(db) -> str:
    return db.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")


def test_a_delete_waits_for_the_transaction_that_posted_to_the_account_and_is_then_refused(committed_db):
    session = committed_db.session
    load_demo(session)
    account_id, journal_id = bill(session)
    region_id = session.scalar(select(Region.id).where(Region.code == "shiraz-1"))
    other = open_contract_account(session, None, 8001003, region_id)
    session.commit()
    with psycopg.connect(_url(committed_db)) as poster, psycopg.connect(_url(committed_db)) as deleter:
        poster.execute("INSERT INTO ledger_postings (journal_id, account_id, amount, line) VALUES "
                       "(%s, %s, 1000, 'x'), (%s, %s, -1000, 'x')", [journal_id, other.id, journal_id, account_id])
        deleter.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):  # the posting's FOR KEY SHARE holds the row
            deleter.execute("DELETE FROM ledger_accounts WHERE id = %s", [other.id])
        deleter.rollback()
        poster.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            deleter.execute("DELETE FROM ledger_accounts WHERE id = %s", [other.id])
