"""The API's checks: a signed-in user (401 otherwise), the permission (403), the object's region (403)."""

from functools import wraps

from flask import abort, jsonify
from flask_login import current_user
from marshmallow import ValidationError

from core.db import db
from core.errors import DomainError, NotFound
from core.messages import message_for
from core.permissions import PERMISSIONS, allowed_regions, has_permission
from core.regions import Region


def api_requires(permission: str):
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return jsonify(error="unauthorized", message="sign in first"), 401
            if not has_permission(db.session, current_user, permission):
                abort(403)
            try:
                return view(*args, **kwargs)
            except ValidationError as error:
                db.session.rollback()
                return jsonify(error="invalid", errors=error.messages), 422
            except NotFound as error:
                db.session.rollback()
                return jsonify(error="not_found", code=error.code, message=message_for(error)), 404
            except DomainError as error:
                db.session.rollback()
                return jsonify(error="invalid", code=error.code,
                               errors={error.field or "_": [message_for(error)]}), 422

        guarded.required_permission = permission
        return guarded

    return decorate


def check_region(permission: str, region_id: int | None) -> None:
    """403 unless the user holds `permission` in this region (a missing region is the operation's to refuse)."""
    region = db.session.get(Region, region_id) if region_id is not None else None
    if region is not None and not has_permission(db.session, current_user, permission, region):
        abort(403)


def region_ids(permission: str) -> list[int]:
    return [r.id for r in allowed_regions(db.session, current_user, permission)]


def found(model, object_id):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj
