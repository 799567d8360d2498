"""The REST JSON API under /api/v1 (marshmallow schemas).

Who is asking: for now, the user signed in to the web session, with the same permission and region
checks as the pages (see api/access.py).

CSRF: the blueprint is exempt from Flask-WTF's CSRF tokens, because every request that changes
something must say `Content-Type: application/json` (else 415). A cross-site HTML form can send only
form encodings or text/plain, and a cross-site script cannot send JSON without a CORS preflight that
this app never grants, so the content type stands in for the token; the session cookie is also
SameSite=Lax.
"""

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

bp = Blueprint("api", __name__, url_prefix="/api/v1")

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@bp.before_request
def _json_only():
    if request.method in UNSAFE_METHODS and request.mimetype != "application/json":
        return jsonify(error="unsupported_media_type", message="send application/json"), 415
    return None


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return jsonify(error=(error.name or "error").lower().replace(" ", "_"), message=error.description), error.code


def register(app) -> None:
    from api import subscribers, subscribers_contracts  # noqa: F401  (add their routes to bp)

    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
