"""Schemathesis against the OpenAPI document: every operation with generated requests (valid and
invalid), through the app's WSGI interface, no server. No 5xx; every response is one the document
declares, with its declared content type and schema; requests the schema rules out are rejected.

(schemathesis' own pytest plugin does not run under pytest 9 yet, so each operation's strategies are
driven by Hypothesis here, with a fixed seed and a bounded number of examples.)
"""

import schemathesis
from flask import g
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode, checks

from api import webhooks
from tests.test_api_helpers import bearer, contract_with_bill, token_for

ALL_SCOPES = ["subscribers.view", "subscribers.edit", "ledger.view", "ledger.post", "ledger.approve",
              "cartable.use", "instances.admin", "api.manage", "billing.view", "tariffs.manage"]
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.negative_data_rejection]
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}


# Reads whose queries the schema allows must be accepted (found or not): their filters are what they say.
# (The bank inquiry is left out: a bill ID of the right shape may still fail its check digit, a 422.)
ACCEPT_POSITIVE_READS = [checks.positive_data_acceptance]
CHECKED_DIGITS = {"/api/v1/bank/bills"}


def _checks(operation, mode):
    if mode == GenerationMode.POSITIVE and operation.method.upper() == "GET" and operation.path not in CHECKED_DIGITS:
        return CHECKS + ACCEPT_POSITIVE_READS
    return CHECKS


def _exercise(operation, mode, headers, failures):
    @seed(20261128)
    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        g.__dict__.clear()  # each request its own `g`, as in a real server
        case.call_and_validate(headers=headers, checks=_checks(operation, mode))

    try:
        run()
    except Exception as error:  # collect every operation's failure, then report them all
        failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {error}"[:3000])


def test_the_api_keeps_its_document(app, session, demo, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)  # a generated webhook URL must not stall the run
    contract_with_bill(session)  # something for the ledger's reads to find
    headers = bearer(token_for(session, ALL_SCOPES, regions=("demo",), name="schemathesis", rate_limit=100_000))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    failures = []
    for operation in operations:
        for mode in EXAMPLES:
            _exercise(operation, mode, headers, failures)
    assert not failures, "\n\n".join(failures)
