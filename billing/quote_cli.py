"""What `madam tariff quote` and `madam ids validate` do; madam/cli.py only prints the result and exits
with its code (0 good, 2 bad input). Formats: docs/tariffs.md and docs/identifiers.md."""

import json
from pathlib import Path

from flask_babel import gettext

from billing.calculation import UsageInvalid, quote, usage_from_json
from billing.tariff import TariffInvalid
from core.identifiers import describe_bill_id, describe_payment_id
from core.money import format_rials
from core.utilities import UTILITY_NAMES_FA

BAD_INPUT = 2


def quote_files(tariff_path: str, usage_path: str) -> tuple[int, dict]:
    """(0, the quote as JSON) or (2, {"errors": [{"field": "tariff.blocks[1].rate", "message": …}]}).
    The tariff file holds one tariff version (in force for the whole period when it names no
    effective_from) or a list of versions, each with its effective_from."""
    errors = []
    tariff_data = _read_json(tariff_path, "tariff", errors)
    usage_data = _read_json(usage_path, "usage", errors)
    if errors:
        return BAD_INPUT, {"errors": errors}
    try:
        usage = usage_from_json(usage_data)
    except UsageInvalid as invalid:
        return BAD_INPUT, {"errors": _prefixed("usage", invalid.errors)}
    if isinstance(tariff_data, list):
        versions = [(v.get("effective_from") if isinstance(v, dict) else None, v) for v in tariff_data]
    else:
        effective = tariff_data.get("effective_from") if isinstance(tariff_data, dict) else None
        versions = [(effective or usage.start, tariff_data)]
    try:
        result = quote(versions, usage)
    except TariffInvalid as invalid:
        return BAD_INPUT, {"errors": _prefixed("tariff", invalid.errors)}
    except UsageInvalid as invalid:
        return BAD_INPUT, {"errors": _prefixed("usage", invalid.errors)}
    return 0, result.to_json()


def validate_ids(bill_id: str, payment_id: str) -> tuple[int, dict]:
    """What the two IDs encode, and (exit 2) every reason either is invalid, naming the check digit."""
    bill = describe_bill_id(bill_id)
    payment = describe_payment_id(bill_id, payment_id)
    errors = [{"field": "bill_id", "message": _bill_problem(code, bill)} for code in bill["problems"]]
    errors += [{"field": "payment_id", "message": _payment_problem(code, payment)} for code in payment["problems"]]
    if "service_digit" in bill:
        bill["service_name"] = _service_name(bill["service_digit"])
    if "amount_rials" in payment:
        payment["amount_text"] = format_rials(payment["amount_rials"])
    result = {"valid": not errors, "bill": bill, "payment": payment}
    if errors:
        result["errors"] = errors
    return (BAD_INPUT if errors else 0), result


def _read_json(path: str, name: str, errors: list) -> object:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError:
        errors.append({"field": name, "message": gettext("The file %(path)s cannot be read.", path=path)})
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = {"line": getattr(exc, "lineno", 0), "column": getattr(exc, "colno", 0)}
        errors.append({"field": name, "message": gettext(
            "The file is not valid JSON (line %(line)s, column %(column)s).", **where)})
    return None


def _prefixed(name: str, errors: list[dict]) -> list[dict]:
    return [{"field": f"{name}.{e['field']}" if e["field"] else name, "message": e["message"]} for e in errors]


def _service_name(digit: int) -> str:
    names = {1: UTILITY_NAMES_FA["water"], 2: UTILITY_NAMES_FA["electricity"], 3: UTILITY_NAMES_FA["gas"],
             4: gettext("Telephone")}
    return names.get(digit, gettext("Unknown service"))


def _bill_problem(code: str, bill: dict) -> str:
    if code == "not_digits":
        return gettext("A bill ID is made of digits only.")
    if code == "length":
        return gettext("A bill ID has 6 to 13 digits; this one has %(n)s.", n=len(bill["bill_id"]))
    if code == "leading_zero":
        return gettext("A bill ID does not start with 0.")
    return gettext("The bill ID's check digit (its last digit) is %(found)s, but its other digits give %(expected)s.",
                   found=bill["check_digit"], expected=bill["expected_check_digit"])


def _payment_problem(code: str, payment: dict) -> str:
    if code == "not_digits":
        return gettext("A payment ID is made of digits only.")
    if code == "length":
        return gettext("A payment ID has 6 to 13 digits; this one has %(n)s.", n=len(payment["payment_id"]))
    if code == "leading_zero":
        return gettext("A payment ID does not start with 0.")
    if code == "c1":
        return gettext("The payment ID's first check digit (C1, second from the end) is %(found)s, but the amount, "
                       "year and period give %(expected)s.", found=payment["c1"], expected=payment["expected_c1"])
    return gettext("The payment ID's second check digit (C2, the last digit) is %(found)s, but the bill ID, the "
                   "payment fields and C1 give %(expected)s.", found=payment["c2"], expected=payment["expected_c2"])
