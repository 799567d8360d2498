"""Administration: users and their roles, regions, roles, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from web.admin import org, users  # noqa: E402, F401  (routes attach to bp)
