"""Registry changes the procedures need that the registry's own operations do not offer yet.

- A new connection reserves its contract before the fee is paid: the contract is numbered (subscription
  number, file number, bill ID) and its ledger account opened, so the fee can be invoiced to it and the
  payment found by its bill ID; its status stays `requested` (the same word as its service point's) until
  the meter is installed and the contract activated. A cancelled request closes it as terminated.
- A meter found faulty while still installed is marked so (the broken-meter report lists it) until it is
  replaced.
- An outage recorded while it lasts gets its end when the supply is restored.
- An unused stock meter of a utility in a region, for a procedure that assigns one.

Like every registry operation: validated, audited, flushed, never committed.
"""

from datetime import date, datetime

from sqlalchemy import select

from core.audit import audit
from core.errors import DomainError
from core.regions import Region
from subscribers import numbering, signals
from subscribers.contract_ops import active_contract, contract_terms
from subscribers.enums import CloseReason, ContractStatus, MeterStatus, ServicePointStatus
from subscribers.models import Contract, Meter, Outage, Premise, ServicePoint, Subscriber

CONTRACT_REQUESTED = "requested"  # reserved for a new connection, not yet active


def reserve_contract(session, actor, subscriber_id: int, service_point_id: int, on: date, data: dict,
                     company_code: str = numbering.DEFAULT_COMPANY_CODE) -> Contract:
    """A numbered contract in status `requested` on a requested service point (one per point)."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise DomainError("subscriber.not_found", field="subscriber_id")
    point = session.get(ServicePoint, service_point_id, with_for_update=True, populate_existing=True)
    if point is None:
        raise DomainError("service_point.not_found", field="service_point_id")
    if point.status != ServicePointStatus.REQUESTED:
        raise DomainError("service_point.not_requested", field="service_point_id")
    if active_contract(session, point.id) is not None or reserved_contract(session, point.id) is not None:
        raise DomainError("contract.service_point_taken", field="service_point_id")
    terms = contract_terms(data)
    region_id = session.get(Premise, point.premise_id).region_id
    file_no = numbering.next_file_number(session)
    contract = Contract(
        subscription_no=numbering.next_subscription_number(session, region_id), revision=1, file_no=file_no,
        bill_id=numbering.bill_id_for(file_no, point.utility, company_code), subscriber_id=subscriber.id,
        service_point_id=point.id, region_id=region_id, start_date=on, status=CONTRACT_REQUESTED, **terms)
    session.add(contract)
    session.flush()
    audit(session, actor, "contract.reserved", contract, subscription_no=contract.subscription_no,
          bill_id=contract.bill_id, subscriber_id=subscriber.id)
    signals.contract_opened.send(None, session=session, actor=actor, contract_id=contract.id,
                                 region_id=contract.region_id, bill_id=contract.bill_id)
    return contract


def reserved_contract(session, service_point_id: int) -> Contract | None:
    return session.scalar(select(Contract).where(Contract.service_point_id == service_point_id,
                                                 Contract.status == CONTRACT_REQUESTED))


def _locked_reserved(session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id, with_for_update=True, populate_existing=True)
    if contract is None:
        raise DomainError("contract.not_found", field="contract_id")
    if contract.status != CONTRACT_REQUESTED:
        raise DomainError("contract.not_reserved", field="contract_id", subscription_no=contract.subscription_no)
    return contract


def activate_contract(session, actor, contract_id: int, on: date) -> Contract:
    """The reserved contract starts on `on`; its service point must have its meter (active)."""
    contract = _locked_reserved(session, contract_id)
    point = session.get(ServicePoint, contract.service_point_id)
    if point.status != ServicePointStatus.ACTIVE:
        raise DomainError("contract.no_meter", field="contract_id")
    if on is None:
        raise DomainError("field.required", field="start_date")
    contract.status, contract.start_date = ContractStatus.ACTIVE, on
    session.flush()
    audit(session, actor, "contract.activated", contract, subscription_no=contract.subscription_no, start_date=on)
    return contract


def cancel_reserved_contract(session, actor, contract_id: int, on: date, reason: str) -> Contract:
    """A request given up before activation: the reserved contract is closed (terminated) the same day."""
    contract = _locked_reserved(session, contract_id)
    contract.status, contract.close_reason = ContractStatus.CLOSED, CloseReason.TERMINATED
    contract.end_date = max(on, contract.start_date)
    session.flush()
    audit(session, actor, "contract.cancelled", contract, subscription_no=contract.subscription_no, reason=reason)
    return contract


def stock_meter(session, utility: str, region_id: int) -> Meter | None:
    """The oldest registered in-stock meter of the utility kept in the region or a region above it."""
    region = session.get(Region, region_id)
    if region is None:
        return None
    kept_in = select(Region.id).where(Region.path.in_(_ancestor_paths(region.path)))
    return session.scalar(select(Meter).where(Meter.status == MeterStatus.IN_STOCK, Meter.utility == utility,
                                              Meter.region_id.in_(kept_in)).order_by(Meter.id).limit(1))


def _ancestor_paths(path: str) -> list[str]:
    """"/1/4/9/" -> ["/1/", "/1/4/", "/1/4/9/"]."""
    ids = [part for part in path.split("/") if part]
    return ["/" + "/".join(ids[:n]) + "/" for n in range(1, len(ids) + 1)]


def mark_meter_faulty(session, actor, meter_id: int, reason: str) -> Meter:
    """A meter found beyond tolerance: marked faulty where it is (installed or in test) until replaced."""
    meter = session.get(Meter, meter_id, with_for_update=True, populate_existing=True)
    if meter is None:
        raise DomainError("meter.not_found", field="meter_id")
    if meter.status == MeterStatus.RETIRED:
        raise DomainError("meter.retired", field="meter_id", serial=meter.serial)
    if meter.status != MeterStatus.FAULTY:
        audit(session, actor, "meter.marked_faulty", meter, serial=meter.serial, old=meter.status, reason=reason)
        meter.status = MeterStatus.FAULTY
        session.flush()
    return meter


def end_outage(session, actor, outage_id: int, ends_at: datetime) -> Outage:
    """The moment the supply came back, for an outage recorded without one."""
    outage = session.get(Outage, outage_id, with_for_update=True, populate_existing=True)
    if outage is None:
        raise DomainError("outage.not_found", field="outage_id")
    if ends_at is None:
        raise DomainError("field.required", field="ends_at")
    if ends_at <= outage.starts_at:
        raise DomainError("outage.ends_before_start", field="ends_at")
    if outage.ends_at != ends_at:
        audit(session, actor, "outage.ended", outage, old=outage.ends_at, ends_at=ends_at)
        outage.ends_at = ends_at
        session.flush()
    return outage
