"""Subscription numbers, file numbers and bill IDs.

The scheme, per region (امور):

- **Subscription number (شماره اشتراک)** — 10 digits: the region's id zero-padded to 3 digits, then a
  7-digit sequence of that region (`0040000001` is the first subscription of region 4). Each region
  counts on its own row of `number_counters` (key `subscription:<region id>`), read with
  `SELECT … FOR UPDATE`, so two clerks opening contracts at once get consecutive numbers and never
  the same one. A region holds up to 9,999,999 subscriptions; ids above 999 are refused.
- **File number (شماره پرونده)** — up to 8 digits, one company-wide sequence (key `file`). The file
  number is the file code of the bill ID, which the standard limits to 8 digits.
- **Bill ID (شناسه قبض)** — `core.identifiers.make_bill_id(file number, company code, service digit)`:
  the company code is the 3-digit code of the distribution company (setting `MADAM_COMPANY_CODE`,
  passed in by the edge), the service digit comes from the utility (water 1, electricity 2, gas 3).

A contract that changes owner keeps its subscription number, file number and bill ID: the successor
row is the next `revision` of the same subscription, so bills keep their ID and history keeps both.
"""

from sqlalchemy.dialects import postgresql, sqlite

from core.db import is_postgresql
from core.errors import DomainError
from core.identifiers import SERVICE_DIGITS, make_bill_id
from subscribers.models import NumberCounter

DEFAULT_COMPANY_CODE = "101"
REGION_DIGITS = 3
SEQUENCE_DIGITS = 7
FILE_DIGITS = 8


def next_number(session, key: str) -> int:
    """The next value of a counter, under a lock on its row (created on first use)."""
    return reserve_numbers(session, key, 1)


def reserve_numbers(session, key: str, count: int) -> int:
    """Take `count` consecutive values of a counter under a lock on its row; returns the first."""
    counter = session.get(NumberCounter, key, with_for_update=True, populate_existing=True)
    if counter is None:
        insert = postgresql.insert if is_postgresql(session) else sqlite.insert
        session.execute(insert(NumberCounter).values(key=key, value=0).on_conflict_do_nothing())
        counter = session.get(NumberCounter, key, with_for_update=True, populate_existing=True)
    counter.value += count
    session.flush()
    return counter.value - count + 1


def subscription_number(region_id: int, sequence: int) -> str:
    if region_id >= 10**REGION_DIGITS or sequence >= 10**SEQUENCE_DIGITS:
        raise DomainError("numbering.exhausted", field="region_id")
    return f"{region_id:0{REGION_DIGITS}d}{sequence:0{SEQUENCE_DIGITS}d}"


def next_subscription_number(session, region_id: int) -> str:
    return subscription_number(region_id, next_number(session, f"subscription:{region_id}"))


def next_file_number(session) -> str:
    value = next_number(session, "file")
    if value >= 10**FILE_DIGITS:
        raise DomainError("numbering.exhausted", field="file_no")
    return str(value)


def bill_id_for(file_no: str, utility: str, company_code: str = DEFAULT_COMPANY_CODE) -> str:
    return make_bill_id(file_no, company_code, SERVICE_DIGITS[utility])
