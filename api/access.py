"""The API's checks. Who asks: an integration client by its token (`Authorization: Bearer mdm_…`), or
the user signed in to the web session. 401 for neither; 403 without the permission (a client's scope)
or outside the object's region (a client's regions, a user's grants)."""

from functools import wraps

from flask import abort, g
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError

from api import problems
from api.clients import ClientActor, client_reaches, client_region_ids
from core.db import db
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.permissions import PERMISSIONS, allowed_regions, has_permission
from core.regions import Region


def client():
    return g.get("api_client")


def actor():
    """Whoever acts for this request, as the operations expect it (a user, or the client)."""
    if client() is not None:
        return ClientActor(client().id, client().name)
    return current_user._get_current_object()


def allowed(permission: str, region: Region | None = None) -> bool:
    if client() is not None:
        return permission in client().scopes and (region is None or client_reaches(db.session, client(), region))
    return has_permission(db.session, current_user, permission, region)


# Refusals the domain raises as plain DomainErrors that mean "someone else has it already".
CONFLICT_CODES = {"ledger.idempotency_conflict"}


def run_view(view, *args, **kwargs):
    """The view, with the domain's refusals turned into problems and nothing half-saved."""
    try:
        return view(*args, **kwargs)
    except ValidationError as error:
        db.session.rollback()
        return problems.invalid(error)
    except NotFound as error:
        db.session.rollback()
        return problems.domain(error, 404, "not_found")
    except Conflict as error:
        db.session.rollback()
        return problems.domain(error, 409, "conflict")
    except PermissionDenied as error:
        db.session.rollback()
        return problems.domain(error, 403, "forbidden")
    except DomainError as error:
        db.session.rollback()
        if error.code in CONFLICT_CODES:
            return problems.domain(error, 409, "conflict")
        return problems.domain(error)
    except DataError:  # a value the database cannot hold (too long, out of range): the caller's to fix
        db.session.rollback()
        return problems.problem(422, "invalid", problems.TITLES[422])
    except IntegrityError:  # a unique value taken meanwhile (or by a concurrent request)
        db.session.rollback()
        return problems.problem(409, "conflict", problems.TITLES[409])


def api_requires(permission: str):
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if client() is None and not current_user.is_authenticated:
                return problems.problem(401, "unauthorized", problems.TITLES[401])
            if not allowed(permission):
                abort(403)
            return run_view(view, *args, **kwargs)

        guarded.required_permission = permission
        return guarded

    return decorate


def public(view):
    """Open to anyone (the API's own description)."""
    view.required_permission = "public"
    return view


def check_region(permission: str, region_id: int | None) -> None:
    """403 unless the caller holds `permission` in this region (a missing region is the operation's to refuse)."""
    region = db.session.get(Region, region_id) if isinstance(region_id, int) else None
    if region is not None and not allowed(permission, region):
        abort(403)


def region_ids(permission: str) -> list[int]:
    if client() is not None:
        return client_region_ids(db.session, client()) if permission in client().scopes else []
    return [r.id for r in allowed_regions(db.session, current_user, permission)]


def found(model, object_id):
    try:
        obj = db.session.get(model, object_id)
    except DataError:  # an id beyond the column's range (some tables have 32-bit keys): no such row
        db.session.rollback()
        obj = None
    if obj is None:
        abort(404)
    return obj
