"""Helpers the API's tests share (no tests here): a client with a token, a contract with a bill."""

from datetime import date

from sqlalchemy import select

from api.clients import create_client
from core.identifiers import make_bill_id, make_payment_id
from core.regions import Region
from ledger import bills
from ledger.accounts import open_contract_account

ISSUED_ON = date(2025, 3, 1)


def region_id(session, code="shiraz-1") -> int:
    return session.scalar(select(Region.id).where(Region.code == code))


def token_for(session, scopes, regions=("shiraz-1",), name=None, rate_limit=600) -> str:
    _client, token = create_client(session, None, name or f"client-{'-'.join(scopes)}-{'-'.join(regions)}",
                                   list(scopes), [region_id(session, code) for code in regions],
                                   rate_limit=rate_limit)
    session.commit()
    return token


def bearer(token: str, language: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    if language:
        headers["Accept-Language"] = language
    return headers


def contract_with_bill(session, contract_id=7001, amount=450_000, region="shiraz-1", period=12):
    """A contract's account holding one bill: (bill ID, payment ID, account)."""
    bill_id = make_bill_id(contract_id, 123, 2)
    account = open_contract_account(session, None, contract_id, region_id(session, region), bill_id)
    payment_id = make_payment_id(amount, 1403, period, bill_id)
    bills.post_bill(session, None, contract_id, bill_id=bill_id, period=f"1403/{period:02d}", issued_on=ISSUED_ON,
                    due_on=date(2025, 3, 15), lines={"energy": amount}, payment_id=payment_id)
    session.commit()
    return bill_id, payment_id, account
