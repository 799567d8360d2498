"""The last bill of a contract's owner (صورتحساب تسویه): on a change of owner the meter is read on site and
the use up to that reading is billed at once, not with the next general run. If a bill of the same month
is already issued, it is cancelled and issued again to close at the final reading (one bill per period)."""

from datetime import date

from sqlalchemy import select

from billing.bills import cancel_and_rebill, issue
from billing.models import Bill, BillStatus
from billing.readings import installed_meter, override, record_reading
from core.errors import DomainError, NotFound
from core.jalali import to_jalali
from subscribers.models import Contract

REBILL_REASON = "صورتحساب تسویه: دوره تا قرائت نهایی بسته شد"


def settlement_bill(session, actor, contract_id: int, values: dict[str, int | None], read_on: date, *,
                    issued_on: date, confirmed: str = "", reader_name: str = "") -> Bill:
    """Record the final reading of every register of the meter in place and bill the contract up to it.
    A reading the checks flag (too high, below the last one…) stops with the flags, unless the reader
    confirmed it on site (`confirmed` is the reason kept with the reading)."""
    with session.begin_nested():  # a refused reading leaves nothing behind
        return _settle(session, actor, contract_id, values, read_on, issued_on, confirmed, reader_name)


def _settle(session, actor, contract_id, values, read_on, issued_on, confirmed, reader_name) -> Bill:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("billing.no_contract")
    registers = installed_meter(session, contract).registers
    missing = [register for register in registers if values.get(register) is None]
    if missing:
        raise DomainError("billing.final_reading_missing", field="final_reading", registers=", ".join(missing))
    recorded = [record_reading(session, actor, contract.id, register, read_on, values[register],
                               reader_name=reader_name) for register in registers]
    flagged = [reading for reading in recorded if reading.needs_override]
    if flagged and not confirmed:
        raise DomainError("billing.final_reading_flagged", field="final_reading",
                          flags=sorted({flag for reading in flagged for flag in reading.flags}))
    for reading in flagged:
        override(session, actor, reading.id, confirmed)
    j = to_jalali(read_on)
    same_month = session.scalar(select(Bill).where(
        Bill.contract_id == contract.id, Bill.period == f"{j.year:04d}/{j.month:02d}",
        Bill.status == BillStatus.ISSUED))
    if same_month is not None:
        return cancel_and_rebill(session, actor, same_month.id, REBILL_REASON, on=issued_on, until=read_on)
    return issue(session, actor, contract.id, issued_on=issued_on, until=read_on)
