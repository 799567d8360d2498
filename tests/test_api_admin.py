"""Issuing API tokens (the admin page, `madam api-client create`), webhooks and their delivery log,
the OpenAPI document and its page, and problems for paths the API does not have."""

from sqlalchemy import select

from api.clients import hash_token
from api.models import ApiToken, WebhookDelivery
from madam.cli import main
from tests.helpers import csrf_token_from, login
from tests.test_api_helpers import bearer, region_id


def test_an_admin_issues_a_token_shown_once_and_stored_hashed(client, session, demo):
    login(client, "admin")
    page = client.get("/admin/api/clients")
    assert page.status_code == 200
    created = client.post("/admin/api/clients", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "name": "mdm", "description": "metering",
        "scopes": ["subscribers.view"], "region_ids": [str(region_id(session, "shiraz-1"))], "rate_limit": "120"})
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    token = html.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert token.startswith("mdm_")
    stored = session.scalar(select(ApiToken).where(ApiToken.prefix == token[:10]))
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash
    assert token not in client.get("/admin/api/clients").get_data(as_text=True)
    client.get("/logout")
    assert client.get("/api/v1/meters", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/payments", headers=bearer(token)).status_code == 403  # not in its scopes


def test_a_refused_client_form_names_the_problem(client, session, demo):
    login(client, "admin")
    page = client.get("/admin/api/clients")
    refused = client.post("/admin/api/clients", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "name": "x", "scopes": ["no.such"]})
    assert refused.status_code == 422
    assert session.scalars(select(ApiToken)).all() == []


def test_only_api_managers_reach_the_admin_pages(client, demo):
    login(client, "clerk")
    assert client.get("/admin/api/clients").status_code == 403
    assert client.get("/admin/api/deliveries").status_code == 403


def test_the_cli_issues_a_token(app, session, demo):
    result = app.test_cli_runner().invoke(main, ["api-client", "create", "bank-sepah", "--scope", "ledger.post",
                                                 "--scope", "ledger.view", "--region", "demo"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(token))) is not None
    listed = app.test_cli_runner().invoke(main, ["api-client", "list"])
    assert "bank-sepah" in listed.output and token not in listed.output
    bad = app.test_cli_runner().invoke(main, ["api-client", "create", "x", "--scope", "ledger.post",
                                              "--region", "nowhere"])
    assert bad.exit_code != 0


def test_webhook_page_shows_the_secret_once_and_the_log_lists_deliveries(client, session, demo):
    from api import webhooks

    login(client, "admin")
    page = client.get("/admin/api/webhooks")
    created = client.post("/admin/api/webhooks", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "url": "http://127.0.0.1:9/hook",
        "events": ["payment.posted", "request.completed"]})
    assert created.status_code == 201 and 'id="new-secret"' in created.get_data(as_text=True)
    webhooks.queue_event(session, "payment.posted", {"amount": 5})
    session.commit()
    webhooks.deliver_due(session)
    log = client.get("/admin/api/deliveries")
    assert log.status_code == 200 and "پرداخت ثبت شد" in log.get_data(as_text=True)
    [delivery] = session.scalars(select(WebhookDelivery)).all()
    again = client.post(f"/admin/api/deliveries/{delivery.id}/redeliver",
                        data={"csrf_token": csrf_token_from(log.get_data(as_text=True))})
    assert again.status_code == 302
    session.refresh(delivery)
    assert delivery.attempts == 2  # sent again at once, after the page's own commit


def test_the_openapi_document_describes_every_endpoint(client, app):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    described = {(path, method.upper()) for path, methods in document["paths"].items() for method in methods}
    routes = {(rule.rule.replace("<id:", "{").replace("<", "{").replace(">", "}"), method)
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              and rule.endpoint not in ("api.unknown", "api.soap_bank", "api.openapi_json", "api.docs_page")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - described == set()
    balance = document["paths"]["/api/v1/contracts/{contract_id}/balance"]["get"]
    assert balance["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/BalanceOut")
    assert "422" in balance["responses"] and "ledger.view" in balance["description"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/bank/payments" in page.get_data(as_text=True)


def test_paths_the_api_does_not_have_are_problems(client, session, demo):
    login(client, "clerk")
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong_method = client.delete("/api/v1/meters")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
    too_long = client.get("/api/v1/meters/99999999999999999999")
    assert too_long.status_code == 404 and too_long.mimetype == "application/problem+json"


def test_the_cli_sends_the_deliveries_that_are_due(app, session, demo):
    from api import webhooks

    webhooks.subscribe(session, None, "http://127.0.0.1:9/nothing", ["payment.posted"])
    webhooks.queue_event(session, "payment.posted", {"amount": 1})
    session.commit()
    result = app.test_cli_runner().invoke(main, ["webhooks", "deliver"])
    assert result.exit_code == 0 and "1 deliveries attempted, 0 delivered" in result.output
