"""Helpers for driving pages like a browser does: CSRF tokens from the page, then POST."""

import re


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client, username: str, password: str = "madam1403"):
    page = client.get("/login")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def post_form(client, url: str, data: dict, page_url: str | None = None):
    """POST like a browser: take the CSRF token from the page the form is on."""
    page = client.get(page_url or url)
    return client.post(url, data={**data, "csrf_token": csrf_token_from(page.get_data(as_text=True))})

