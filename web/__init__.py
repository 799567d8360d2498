"""The server-rendered UI: blueprints, Jinja filters, session rules and error pages."""

from flask import has_request_context, request, session
from flask_login import current_user

from web import (
    access,
    admin,
    api_admin,
    audit_labels,
    auth,
    cartable,
    cartable_documents,  # noqa: F401  (adds the documents' views to the cartable's blueprint)
    cartable_filters,
    errors,
    filters,
    formjs,
    home,
    instances,
    lookups,
    nav,
    requests_pages,
    sessions,
)
from web import billing as billing_pages
from web import billing_runs as billing_run_pages
from web import ledger as ledger_pages
from web import modeler as modeler_pages
from web import reports as report_pages
from web import subscribers as subscriber_pages


def select_locale() -> str:
    """The signed-in user's language, else the one chosen on the login page, else Persian."""
    if not has_request_context():
        return "fa"  # CLI commands and jobs speak the platform's default language
    if current_user and current_user.is_authenticated and current_user.locale in ("fa", "en"):
        return current_user.locale
    chosen = session.get("locale") or request.cookies.get("madam_locale")
    return chosen if chosen in ("fa", "en") else "fa"


def register(app, login_manager) -> None:
    auth.init_login(login_manager)
    sessions.init(app)
    filters.init(app)
    audit_labels.init(app)
    access.init(app)
    nav.init(app)
    errors.init(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api_admin.bp)
    app.register_blueprint(ledger_pages.bp)
    app.register_blueprint(billing_run_pages.bp)
    app.register_blueprint(billing_pages.bp)
    formjs.init(app)
    cartable_filters.init(app)
    app.register_blueprint(cartable.bp)
    app.register_blueprint(requests_pages.bp)
    app.register_blueprint(instances.bp)
    app.register_blueprint(lookups.bp)
    app.register_blueprint(modeler_pages.bp)
    app.register_blueprint(report_pages.bp)
    subscriber_pages.init(app)
