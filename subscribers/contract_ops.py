"""Contracts (اشتراک): open, close, and transfer to a new owner (تغییر نام).

A transfer closes the contract (end date, status closed, reason transferred) and opens its successor
for the new owner: the same subscription number, file number and bill ID, the next revision, and a
link to its predecessor. The old owner stays in history. Numbering: see subscribers/numbering.py.
"""

from datetime import date

from sqlalchemy import select

from core.audit import audit
from core.errors import DomainError
from subscribers import numbering, signals
from subscribers import validation as v
from subscribers.enums import TARIFF_TYPES, CloseReason, ContractStatus, DiscountCategory, ServicePointStatus
from subscribers.models import Contract, Premise, ServicePoint, Subscriber


def active_contract(session, service_point_id: int) -> Contract | None:
    return session.scalar(select(Contract).where(Contract.service_point_id == service_point_id,
                                                 Contract.status == ContractStatus.ACTIVE))


def contract_terms(data: dict) -> dict:
    return {
        "tariff_type": v.choice(data.get("tariff_type"), TARIFF_TYPES, "tariff_type"),
        "contracted_demand": v.positive_int(data.get("contracted_demand"), "contracted_demand"),
        "discount_category": v.choice(data.get("discount_category") or "none", list(DiscountCategory),
                                      "discount_category"),
    }


def open_contract(session, actor, subscriber_id: int, service_point_id: int, start_date: date, data: dict,
                  company_code: str = numbering.DEFAULT_COMPANY_CODE) -> Contract:
    """A new subscription on a service point that has none, numbered in the premise's region."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise DomainError("subscriber.not_found", field="subscriber_id")
    point = session.get(ServicePoint, service_point_id, with_for_update=True, populate_existing=True)
    if point is None:
        raise DomainError("service_point.not_found", field="service_point_id")
    if point.status == ServicePointStatus.TERMINATED:
        raise DomainError("service_point.terminated", field="service_point_id")
    if active_contract(session, point.id) is not None:
        raise DomainError("contract.service_point_taken", field="service_point_id")
    if start_date is None:
        raise DomainError("field.required", field="start_date")
    terms = contract_terms(data)
    region_id = session.get(Premise, point.premise_id).region_id
    file_no = numbering.next_file_number(session)
    contract = Contract(
        subscription_no=numbering.next_subscription_number(session, region_id), revision=1, file_no=file_no,
        bill_id=numbering.bill_id_for(file_no, point.utility, company_code), subscriber_id=subscriber.id,
        service_point_id=point.id, region_id=region_id, start_date=start_date, status=ContractStatus.ACTIVE,
        **terms,
    )
    session.add(contract)
    session.flush()
    audit(session, actor, "contract.opened", contract, subscription_no=contract.subscription_no,
          bill_id=contract.bill_id, subscriber_id=subscriber.id)
    signals.contract_opened.send(None, session=session, actor=actor, contract_id=contract.id,
                                 region_id=contract.region_id, bill_id=contract.bill_id)
    return contract


def _locked_active(session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id, with_for_update=True, populate_existing=True)
    if contract is None:
        raise DomainError("contract.not_found", field="contract_id")
    if contract.status != ContractStatus.ACTIVE:
        raise DomainError("contract.not_active", field="contract_id", subscription_no=contract.subscription_no)
    return contract


def _close(contract: Contract, on: date, reason: str) -> None:
    if on is None:
        raise DomainError("field.required", field="end_date")
    if on < contract.start_date:
        raise DomainError("contract.ends_before_start", field="end_date")
    contract.end_date = on
    contract.status = ContractStatus.CLOSED
    contract.close_reason = reason


def close_contract(session, actor, contract_id: int, on: date) -> Contract:
    contract = _locked_active(session, contract_id)
    _close(contract, on, CloseReason.TERMINATED)
    session.flush()
    audit(session, actor, "contract.closed", contract, subscription_no=contract.subscription_no, end_date=on)
    return contract


def transfer_contract(session, actor, contract_id: int, new_owner_id: int, on: date,
                      data: dict | None = None) -> Contract:
    """Close the contract on `on` and open the next revision for the new owner from the same day."""
    contract = _locked_active(session, contract_id)
    owner = session.get(Subscriber, new_owner_id)
    if owner is None:
        raise DomainError("subscriber.not_found", field="new_owner_id")
    if owner.id == contract.subscriber_id:
        raise DomainError("contract.same_owner", field="new_owner_id")
    terms = {"tariff_type": contract.tariff_type, "contracted_demand": contract.contracted_demand,
             "discount_category": contract.discount_category, **(data or {})}
    terms = contract_terms(terms)
    _close(contract, on, CloseReason.TRANSFERRED)
    session.flush()  # the closed row first: only one active contract per service point at a time
    successor = Contract(
        subscription_no=contract.subscription_no, revision=contract.revision + 1, file_no=contract.file_no,
        bill_id=contract.bill_id, subscriber_id=owner.id, service_point_id=contract.service_point_id,
        region_id=contract.region_id, start_date=on, status=ContractStatus.ACTIVE, predecessor_id=contract.id,
        **terms,
    )
    session.add(successor)
    session.flush()
    audit(session, actor, "contract.transferred", successor, subscription_no=contract.subscription_no,
          predecessor_id=contract.id, old_owner_id=contract.subscriber_id, new_owner_id=owner.id, on=on)
    return successor


def contract_history(session, subscription_no: str) -> list[Contract]:
    return list(session.scalars(select(Contract).where(Contract.subscription_no == subscription_no)
                                .order_by(Contract.revision)))
