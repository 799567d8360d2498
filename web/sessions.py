"""Per-request rules: the request's origin for the audit log, idle and absolute session expiry."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from core.audit import Origin, reset_origin, set_origin
from core.audit import audit as write_audit
from core.db import db

# Scripts, styles, fonts and images come only from this site; nothing may frame its pages.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def init(app) -> None:
    app.before_request(_set_origin)
    app.before_request(_expire_idle_session)
    app.after_request(_security_headers)
    app.teardown_request(_clear_origin)


def _content_security_policy() -> str:
    """The policy, with the map tiles' origin (setting MADAM_MAP_TILE_URL) allowed as an image source."""
    tiles = urlsplit(current_app.config.get("MADAM_MAP_TILE_URL") or "")
    if tiles.scheme in ("http", "https") and tiles.netloc:
        origin = f"{tiles.scheme}://{tiles.netloc.replace('{s}.', '*.')}"
        return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")
    return CONTENT_SECURITY_POLICY


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", _content_security_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_user and current_user.is_authenticated:
        response.headers.setdefault("Cache-Control", "no-store")  # no one's data in a shared cache
    return response


def _set_origin():
    token = set_origin(Origin(request.remote_addr or "", (request.user_agent.string or "")[:300]))
    request.environ["madam.origin_token"] = token


def _clear_origin(_exc=None):
    token = request.environ.pop("madam.origin_token", None)
    if token is not None:
        reset_origin(token)


def _expire_idle_session():
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = datetime.now(UTC).timestamp()
    seen = session.get("seen", now)
    started = session.get("started", now)
    idle = current_app.config["MADAM_SESSION_IDLE"].total_seconds()
    longest = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    if now - seen > idle or now - started > longest:
        write_audit(db.session, current_user, "logout.expired", current_user._get_current_object())
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("Your session has expired. Please sign in again."), "warning")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session["seen"] = now
    session.setdefault("started", now)
    return None
