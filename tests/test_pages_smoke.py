"""Every page without parameters renders for the administrator (no template or view error anywhere)."""

from tests.helpers import login


def test_every_plain_page_renders_for_the_admin(app, client, demo):
    login(client, "admin")
    broken = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in ("static", "auth.logout"):
            continue
        response = client.get(rule.rule)
        if response.status_code >= 500:
            broken.append((rule.rule, response.status_code))
    assert broken == []
