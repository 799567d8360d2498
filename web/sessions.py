"""Per-request rules: the request's origin for the audit log, idle and absolute session expiry."""

from datetime import UTC, datetime

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from core.audit import Origin, reset_origin, set_origin
from core.audit import audit as write_audit
from core.db import db


def init(app) -> None:
    app.before_request(_set_origin)
    app.before_request(_expire_idle_session)
    app.teardown_request(_clear_origin)


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
