"""Double-entry ledger: each subscriber's debit and credit, payments, grace periods and installments."""

from ledger import messages  # noqa: F401  (registers the Persian words of the ledger's error codes)
