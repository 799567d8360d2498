"""The REST JSON API under /api/v1 (marshmallow schemas, an OpenAPI 3 document, problem JSON errors).

Who is asking: an integration client by its token (`Authorization: Bearer mdm_…`, see api/clients.py),
or the user signed in to the web session, with the same permission and region checks as the pages
(see api/access.py). Each token has a rate limit (api/ratelimit.py); every change a client makes is
audited with the client's name as the request's origin, and one `api.write` row per write.

CSRF: the blueprint is exempt from Flask-WTF's CSRF tokens, because every request that changes
something must say `Content-Type: application/json` (else 415). A cross-site HTML form can send only
form encodings or text/plain, and a cross-site script cannot send JSON without a CORS preflight that
this app never grants, so the content type stands in for the token; the session cookie is also
SameSite=Lax. (A token-authenticated request carries no cookie, so CSRF does not apply to it.)
"""

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from api import messages, problems  # noqa: F401  (messages: the words for the API's error codes)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Endpoints that take something other than JSON (SOAP takes XML; unknown paths answer 404/405 whatever they get).
NON_JSON_ENDPOINTS = {"api.soap_bank", "api.unknown"}


class IdConverter(BaseConverter):
    """A row id: 1 to 12 digits (a longer number cannot be a row and must not reach the database)."""

    regex = r"[1-9][0-9]{0,11}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


@bp.before_request
def _authenticate_and_limit():
    from api.auth import authenticate

    refused = authenticate()
    if refused is not None:
        return refused
    if (request.method in UNSAFE_METHODS and request.endpoint not in NON_JSON_ENDPOINTS
            and request.mimetype != "application/json"):
        return problems.problem(415, "unsupported_media_type", "send application/json")
    return None


@bp.after_request
def _after(response):
    from api.auth import audit_write

    return audit_write(response)


@bp.teardown_request
def _teardown(exc=None):
    from api.auth import clear_origin

    clear_origin(exc)


def _http_error(error: HTTPException):
    slug = (error.name or "error").lower().replace(" ", "_")
    headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else None
    return problems.problem(error.code or 500, slug, str(problems.TITLES.get(error.code, error.description or "")),
                            headers=headers)


# By code as well as by class: the app's own handlers for 403, 404… (HTML pages) are found by code first.
bp.register_error_handler(HTTPException, _http_error)
for _code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500):
    bp.register_error_handler(_code, _http_error)


@bp.route("/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(_rest):
    """Anything else under /api/v1: 405 when the path exists with other methods, else 404."""
    adapter = current_app.url_map.bind("")
    allowed = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "api.unknown":
            allowed.add(method)
    if allowed:
        return problems.problem(405, "method_not_allowed", headers={"Allow": ", ".join(sorted(allowed))})
    return problems.problem(404, "not_found")


unknown.required_permission = "public"


def register(app) -> None:
    app.url_map.converters["id"] = IdConverter
    from api import (  # noqa: F401  (add their routes to bp)
        bank,
        billing_api,
        docs,
        engine_api,
        ledger_api,
        manage,
        soap,
        subscribers,
        subscribers_contracts,
    )
    from api.ratelimit import counter_for
    from api.webhooks import run_in_process

    app.register_blueprint(bp)
    app.extensions["madam_api_limits"] = counter_for(app.config.get("MADAM_REDIS_URL"))
    app.after_request(run_in_process)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
    from api import admin_service

    app.extensions["madam_api_admin"] = admin_service
