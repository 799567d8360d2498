"""The user's words for the ledger's error codes (English ids; Persian in ledger.po)."""

from flask_babel import gettext

from core.messages import register_messages
from core.money import format_rials


def _rials(value) -> str:
    return format_rials(int(value or 0))


MESSAGES = {
    "ledger.no_account": lambda p: gettext("This contract has no account in the ledger."),
    "ledger.no_journal": lambda p: gettext("There is no such journal."),
    "ledger.account_differs": lambda p: gettext("This contract's account was opened with another region or bill ID."),
    "ledger.bill_id_invalid": lambda p: gettext("This bill ID is not valid."),
    "ledger.payment_id_invalid": lambda p: gettext("This payment ID is not valid for this bill ID."),
    "ledger.amount_mismatch": lambda p: gettext(
        "The amount differs from the %(amount)s the payment ID encodes.", amount=_rials(p.get("expected"))),
    "ledger.amount_invalid": lambda p: gettext("Enter a whole number of rials greater than zero."),
    "ledger.channel_invalid": lambda p: gettext("Choose a payment channel."),
    "ledger.reference_required": lambda p: gettext("Enter the bank reference (up to 64 characters)."),
    "ledger.date_invalid": lambda p: gettext("Enter a Jalali date like 1403/12/30."),
    "ledger.payer_unknown": lambda p: gettext("Give a bill ID and payment ID, or a contract."),
    "ledger.idempotency_conflict": lambda p: gettext(
        "This reference was already used for a different payment."),
    "ledger.already_reversed": lambda p: gettext("This journal has already been reversed."),
    "ledger.cannot_reverse_reversal": lambda p: gettext("A reversal cannot itself be reversed."),
    "ledger.reason_required": lambda p: gettext("Write the reason."),
    "ledger.approval_required": lambda p: gettext(
        "Amounts above %(limit)s need the approval permission.", limit=_rials(p.get("limit"))),
    "ledger.refund_exceeds_credit": lambda p: gettext(
        "A refund cannot exceed the credit of %(credit)s.", credit=_rials(p.get("credit"))),
    "ledger.write_off_exceeds_debt": lambda p: gettext(
        "A write-off cannot exceed the debt of %(debt)s.", debt=_rials(p.get("debt"))),
    "ledger.bill_lines_invalid": lambda p: gettext("A bill's amounts are whole rials, none negative, not all zero."),
    "ledger.bill_payment_id_differs": lambda p: gettext(
        "The payment ID does not encode the payable %(payable)s.", payable=_rials(p.get("payable"))),
    "ledger.no_debt": lambda p: gettext("This contract owes nothing."),
    "ledger.grace_amount_invalid": lambda p: gettext(
        "The amount must be more than zero and at most the debt of %(debt)s.", debt=_rials(p.get("debt"))),
    "ledger.due_date_past": lambda p: gettext("The due date must be after today."),
    "ledger.no_bill_id": lambda p: gettext("This contract has no bill ID, so installments cannot get payment IDs."),
    "ledger.plan_total_invalid": lambda p: gettext(
        "The total must be whole thousands of rials and at most the debt of %(debt)s.", debt=_rials(p.get("debt"))),
    "ledger.installment_count_invalid": lambda p: gettext(
        "The number of installments is 1 to %(maximum)s.", maximum=p.get("maximum")),
    "ledger.down_payment_invalid": lambda p: gettext("The down payment is 0 to 99 percent."),
    "ledger.installments_too_small": lambda p: gettext("Each installment would be less than 1,000 rials."),
    "ledger.line_malformed": lambda p: gettext(
        "A line has five columns: bill ID, payment ID, amount, date, reference."),
    "ledger.line_failed": lambda p: gettext("This line could not be posted."),
}

register_messages(MESSAGES)
