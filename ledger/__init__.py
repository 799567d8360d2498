"""Double-entry ledger: each subscriber's debit and credit, payments, grace periods and installments."""
