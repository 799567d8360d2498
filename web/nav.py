"""The navigation: each entry shows only to users holding its permission."""

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import permissions as p
from web.access import can

NAV = [
    # endpoint, label, permission
    ("home.index", _l("Dashboard"), "authenticated"),
    ("admin.users", _l("Users"), p.ADMIN_USERS),
    ("admin.regions", _l("Regions"), p.ADMIN_REGIONS),
    ("admin.roles", _l("Roles"), p.ADMIN_USERS),
    ("admin.audit_log", _l("Audit log"), p.ADMIN_AUDIT),
]


def visible_nav():
    return [
        {"endpoint": endpoint, "url": url_for(endpoint), "label": label}
        for endpoint, label, permission in NAV
        if permission == "authenticated" or can(permission)
    ]


def init(app) -> None:
    @app.context_processor
    def navigation():
        items = visible_nav() if current_user.is_authenticated else []
        return {"nav_items": items, "current_endpoint": request.endpoint}
