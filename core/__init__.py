"""The kernel every package stands on: database, money, identifiers, dates and text, accounts, audit, jobs."""
