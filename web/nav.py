"""The navigation: each entry shows only to users holding its permission."""

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import permissions as p
from core.db import db
from engine.queries import inbox_count
from web.access import can

NAV = [
    # endpoint, label, permission
    ("home.index", _l("Dashboard"), "authenticated"),
    ("subscribers.search_page", _l("Subscribers"), p.SUBSCRIBERS_VIEW),
    ("cartable.inbox", _l("Cartable"), p.CARTABLE_USE),
    ("requests.mine", _l("My requests"), p.CARTABLE_USE),
    ("billing.index", _l("Billing"), p.BILLING_VIEW),
    ("billing.tariff_versions", _l("Tariffs"), p.TARIFFS_MANAGE),
    ("billing_runs.index", _l("Billing runs"), p.BILLING_RUN),
    ("instances.index", _l("Requests (admin)"), p.INSTANCES_ADMIN),
    ("reports.index", _l("Reports"), p.REPORTS_VIEW),
    ("modeler.index", _l("Procedures"), p.PROCESSES_MODEL),
    ("admin.users", _l("Users"), p.ADMIN_USERS),
    ("admin.regions", _l("Regions"), p.ADMIN_REGIONS),
    ("admin.roles", _l("Roles"), p.ADMIN_USERS),
    ("admin.audit_log", _l("Audit log"), p.ADMIN_AUDIT),
    ("api_admin.clients", _l("Integration API"), p.API_MANAGE),
]


def visible_nav():
    items = [
        {"endpoint": endpoint, "url": url_for(endpoint), "label": label, "badge": None}
        for endpoint, label, permission in NAV
        if endpoint in current_app.view_functions and (permission == "authenticated" or can(permission))
    ]
    for item in items:
        if item["endpoint"] == "cartable.inbox":
            item["badge"] = inbox_count(db.session, current_user) or None
    return items


def init(app) -> None:
    @app.context_processor
    def navigation():
        items = visible_nav() if current_user.is_authenticated else []
        return {"nav_items": items, "current_endpoint": request.endpoint}
