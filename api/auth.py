"""Before each API request: the client of a bearer token, its rate limit, and the origin every audit
row of the request will carry. After it: one `api.write` audit row for each change that succeeded."""

from flask import current_app, g, request
from flask_login import current_user

from api import problems
from api.access import actor, client
from api.clients import client_for_token, hash_token
from api.ratelimit import check
from core.audit import Origin, audit, reset_origin, set_origin
from core.db import db

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def authenticate():
    """None to go on, or the problem response that refuses the request."""
    token = _bearer()
    if token is None:
        return None
    found = client_for_token(db.session, token) if token else None
    if found is None:
        db.session.rollback()
        return _refuse(401, "invalid_token", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if db.session.dirty:
        db.session.commit()  # the token's last use
    g.api_client = found
    origin = set_origin(Origin(request.remote_addr or "", f"api-client:{found.name}"[:300]))
    request.environ["madam.api_origin_token"] = origin
    allowed, remaining, reset = check(current_app.extensions["madam_api_limits"], hash_token(token)[:32],
                                      found.rate_limit)
    g.api_rate = (found.rate_limit, remaining, reset)
    if not allowed:
        return _refuse(429, "rate_limited", {"Retry-After": str(reset)})
    return None


def _refuse(status: int, error: str, headers: dict):
    if request.endpoint == "api.soap_bank":  # a SOAP client understands only a fault
        from api.soap import refusal

        return refusal(status, error, headers)
    return problems.problem(status, error, headers=headers)


def audit_write(response):
    rate = g.get("api_rate")
    if rate is not None:
        response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"] = str(rate[0]), str(rate[1])
        response.headers["X-RateLimit-Reset"] = str(rate[2])
    wrote = request.method in WRITE_METHODS and response.status_code < 400 and not g.get("api_read_only")
    if wrote and (client() is not None or current_user.is_authenticated):
        audit(db.session, actor(), "api.write", None, method=request.method, path=request.path,
              status=response.status_code, client=client().name if client() is not None else "")
        db.session.commit()
    return response


def clear_origin(_exc=None):
    token = request.environ.pop("madam.api_origin_token", None)
    if token is not None:
        reset_origin(token)
