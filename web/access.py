"""The one permission check of every page: `@requires(permission)`, and `can()` for templates."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from core.db import db
from core.permissions import PERMISSIONS, allowed_regions, has_permission

# Endpoints anyone may reach: signing in and out, the language switch, static files.
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.set_language"}


def can(permission: str, region=None) -> bool:
    return has_permission(db.session, current_user, permission, region)


def requires(permission: str):
    """Sign-in required, and the permission in some region (or in the view's region, when it checks)."""
    if permission not in PERMISSIONS and permission != "authenticated":
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if permission != "authenticated" and not can(permission):
                abort(403)
            return view(*args, **kwargs)

        guarded.required_permission = permission
        return guarded

    return decorate


def require_region(permission: str, region) -> None:
    """Inside a view: 403 unless the user holds `permission` in this object's region."""
    if not can(permission, region):
        abort(403)


def user_regions(permission: str):
    return allowed_regions(db.session, current_user, permission)


def region_choices(regions) -> list[tuple[int, str]]:
    """Select options for regions, indented by depth so the tree shows (regions sorted by path)."""
    top = min((r.depth for r in regions), default=0)
    return [(r.id, "\u00a0\u00a0" * 2 * (r.depth - top) + r.name) for r in regions]


def init(app) -> None:
    app.jinja_env.globals.update(can=can)
