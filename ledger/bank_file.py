"""A bank's payment file: one line per payment (bill ID, payment ID, amount, date, reference).

Every line gets its own result. A bad line is reported and changes nothing; the good ones post;
importing the same file again posts nothing twice (each bank reference posts once).
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from core.errors import DomainError
from core.jalali import InvalidJalaliDate, parse_jalali_date
from core.text import to_ascii_digits
from ledger.payments import FAILED, PaymentRequest, PaymentResult, post_payments

COLUMNS = ("bill_id", "payment_id", "amount", "date", "reference")


@dataclass(frozen=True)
class LineResult:
    line_no: int
    reference: str
    status: str  # posted | duplicate | suspense | failed
    journal_id: int | None = None
    contract_id: int | None = None
    amount: int = 0
    error: DomainError | None = None


@lru_cache(maxsize=1024)  # a file holds few distinct dates, and converting one costs more than the rest of its line
def parse_date(text: str) -> date:
    """A Jalali date as banks write it: 1403/07/15, 1403-07-15 or 14030715."""
    text = to_ascii_digits(text.strip())
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}/{text[4:6]}/{text[6:]}"
    return parse_jalali_date(text)


def parse_line(fields: list[str], channel: str) -> PaymentRequest | DomainError:
    if len(fields) != len(COLUMNS):
        return DomainError("ledger.line_malformed", columns=len(fields))
    bill_id, payment_id, amount, day, reference = (to_ascii_digits(f.strip()) for f in fields)
    if not re.fullmatch(r"\d{1,15}", amount.replace(",", "")):
        return DomainError("ledger.amount_invalid", field="amount")
    try:
        paid_on = parse_date(day)
    except InvalidJalaliDate:
        return DomainError("ledger.date_invalid", field="date")
    return PaymentRequest(channel=channel, reference=reference, amount=int(amount.replace(",", "")), paid_on=paid_on,
                          bill_id=bill_id, payment_id=payment_id)


def read_lines(text: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) for each non-empty line; a header line, if any, is skipped."""
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1)
            if any(cell.strip() for cell in row)]
    if rows and [c.strip().lower() for c in rows[0][1]][:len(COLUMNS)] == list(COLUMNS):
        rows = rows[1:]
    return rows


def import_bank_file(session, actor, text: str, channel: str = "bank", chunk_size: int = 1000,
                     after_chunk=None) -> list[LineResult]:
    """Post every good line of the file. `after_chunk`, when given, is called after each chunk: the
    edge passes its commit there, so a large file does not hold its locks to the end."""
    results = []
    rows = read_lines(text)
    for start in range(0, len(rows), chunk_size):
        results += _import_chunk(session, actor, rows[start:start + chunk_size], channel)
        if after_chunk is not None:
            after_chunk()
    return results


def _import_chunk(session, actor, rows, channel) -> list[LineResult]:
    parsed = [(n, parse_line(fields, channel)) for n, fields in rows]
    requests = [(n, p) for n, p in parsed if isinstance(p, PaymentRequest)]
    try:
        with session.begin_nested():
            posted = post_payments(session, actor, [p for _, p in requests])
    except Exception:  # a database error in one line: post the chunk line by line
        posted = [_one(session, actor, p) for _, p in requests]
    by_line = {n: result for (n, _), result in zip(requests, posted, strict=True)}
    out = []
    for (n, request), (_, fields) in zip(parsed, rows, strict=True):
        if isinstance(request, DomainError):
            reference = fields[4].strip() if len(fields) > 4 else ""
            out.append(LineResult(n, reference, FAILED, error=request))
        else:
            result = by_line[n]
            out.append(LineResult(n, request.reference, result.status, result.journal_id, result.contract_id,
                                  result.amount, result.error))
    return out


def _one(session, actor, request: PaymentRequest) -> PaymentResult:
    try:
        with session.begin_nested():
            return post_payments(session, actor, [request])[0]
    except Exception:  # reported on its line; the others go on
        return PaymentResult(FAILED, error=DomainError("ledger.line_failed"))
