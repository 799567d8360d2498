"""Signing in and out, and the language switch."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import inspect
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from core.accounts import User
from core.audit import audit
from core.auth import LoginOutcome, authenticate
from core.db import db
from core.permissions import remember_grants
from engine import fastsql

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username."))],
                           render_kw={"autocomplete": "username", "dir": "ltr", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))],
                             render_kw={"autocomplete": "current-password", "dir": "ltr"})


def init_login(login_manager) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str):
        return load_session_user(db.session, session_id)


def load_session_user(db_session, session_id: str) -> User | None:
    """The user of a signed-in session (Flask-Login's id: `user id:password stamp`), or None."""
    user_id, _sep, _stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = _read_user(db_session, int(user_id))
    if user is None or not user.active or user.get_id() != session_id:
        return None  # gone, deactivated, or its password changed since this session began
    return user


_USER_COLUMNS = tuple(column.key for column in User.__table__.columns)
# Every request reads its user: her row and her grants (core.permissions' (permission, region path) pairs, which
# nearly every page checks) in one prepared statement, without the ORM's query and loading.
_USER_WITH_GRANTS = f"""
SELECT {", ".join(f"u.{name}" for name in _USER_COLUMNS)},
       (SELECT json_agg(json_build_array(rp.permission, r.path))
        FROM assignments AS a JOIN role_permissions AS rp ON rp.role_id = a.role_id
             JOIN regions AS r ON r.id = a.region_id
        WHERE a.user_id = u.id)
FROM users AS u WHERE u.id = CAST(%(user_id)s AS integer)"""  # noqa: S608 - column names from the model only


def _read_user(db_session, user_id: int) -> User | None:
    db_session = fastsql.real_session(db_session)
    if not fastsql.on_postgresql(db_session):
        return db_session.get(User, user_id)
    held = db_session.identity_map.get((User, (user_id,), None))
    if held is not None and inspect(held).modified:
        return db_session.get(User, user_id)  # changed in this session and not flushed: its changes stay
    if db_session.autoflush:
        db_session.flush()  # as the ORM's get would autoflush before reading
    row = fastsql.execute(db_session, _USER_WITH_GRANTS, {"user_id": user_id}).fetchone()
    if row is None:
        return None
    count = len(_USER_COLUMNS)
    user = fastsql.adopt(db_session, User, dict(zip(_USER_COLUMNS, row[:count], strict=True)))
    remember_grants(user, row[count] or ())
    return user


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = authenticate(
            db.session, form.username.data, form.password.data,
            max_failures=current_app.config["MADAM_LOGIN_MAX_FAILURES"],
            lockout=current_app.config["MADAM_LOGIN_LOCKOUT"],
        )
        db.session.commit()  # failures and lockouts are kept whatever happens next
        if result.outcome == LoginOutcome.OK:
            session.clear()
            now = datetime.now(UTC).timestamp()
            session.update(started=now, seen=now)
            session.permanent = True
            login_user(result.user)
            refresh()
            return redirect(_safe_next(request.args.get("next")))
        status = 401 if result.outcome == LoginOutcome.BAD_CREDENTIALS else 403
        if result.outcome == LoginOutcome.LOCKED:
            minutes = int(current_app.config["MADAM_LOGIN_LOCKOUT"].total_seconds() // 60)
            form.form_errors.append(
                _("Too many wrong passwords: this account is locked for %(minutes)s minutes.", minutes=minutes)
            )
        elif result.outcome == LoginOutcome.INACTIVE:
            form.form_errors.append(_("This account is deactivated. Ask your administrator."))
        else:
            form.form_errors.append(_("The username or password is wrong."))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit(db.session, current_user, "logout", current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def set_language():
    """Switch between Persian and English; a signed-in user keeps the choice."""
    language = request.form.get("language", "fa")
    if language not in current_app.config["LANGUAGES"]:
        language = "fa"
    if current_user.is_authenticated:
        current_user.locale = language
        audit(db.session, current_user, "user.language_set", current_user._get_current_object(),
              language=language)
        db.session.commit()
    session["locale"] = language
    refresh()
    back = request.form.get("next") or (request.referrer and urlsplit(request.referrer).path)
    response = redirect(_safe_next(back))
    response.set_cookie("madam_locale", language, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
