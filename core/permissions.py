"""Named permissions, the one check every page and endpoint uses, and region scoping of queries.

A user holds roles in regions (`Assignment`); a role grants named permissions; holding a role in a
region grants its permissions there and in every region below it.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select
from sqlalchemy.orm import aliased

from core.accounts import Assignment, Role, User
from core.regions import Region


@dataclass(frozen=True)
class Permission:
    code: str
    label: object  # a lazy translated string


PERMISSIONS: dict[str, Permission] = {}


def define_permission(code: str, label) -> str:
    PERMISSIONS[code] = Permission(code, label)
    return code


# The platform's own permissions; domain packages define theirs the same way.
ADMIN_USERS = define_permission("admin.users", _l("Manage users and their roles"))
ADMIN_REGIONS = define_permission("admin.regions", _l("Manage regions"))
ADMIN_AUDIT = define_permission("admin.audit", _l("View the audit log"))
CARTABLE_USE = define_permission("cartable.use", _l("Work the cartable"))
SUBSCRIBERS_VIEW = define_permission("subscribers.view", _l("View subscribers"))
SUBSCRIBERS_EDIT = define_permission("subscribers.edit", _l("Edit subscribers"))
TARIFFS_MANAGE = define_permission("tariffs.manage", _l("Manage tariffs"))
BILLING_VIEW = define_permission("billing.view", _l("View bills"))
BILLING_RUN = define_permission("billing.run", _l("Run general bill issuance"))
LEDGER_VIEW = define_permission("ledger.view", _l("View debit and credit"))
LEDGER_POST = define_permission("ledger.post", _l("Post payments and adjustments"))
LEDGER_APPROVE = define_permission("ledger.approve", _l("Approve large adjustments, refunds and write-offs"))
REPORTS_VIEW = define_permission("reports.view", _l("View reports"))
PROCESSES_MODEL = define_permission("processes.model", _l("Edit procedures"))
PROCESSES_DEPLOY = define_permission("processes.deploy", _l("Deploy procedures"))
INSTANCES_ADMIN = define_permission("instances.admin", _l("Monitor and repair procedures"))
API_MANAGE = define_permission("api.manage", _l("Manage API clients and webhooks"))


def _grants(session, user: User) -> list[tuple[str, str]]:
    """(permission, region path) pairs the user holds, read once per user object."""
    cached = getattr(user, "_madam_grants", None)
    if cached is not None:
        return cached
    rows = session.execute(
        select(Role.id, Region.path)
        .select_from(Assignment)
        .join(Role, Assignment.role_id == Role.id)
        .join(Region, Assignment.region_id == Region.id)
        .where(Assignment.user_id == user.id)
    ).all()
    roles = {role.id: role for role in session.scalars(select(Role).where(Role.id.in_({r[0] for r in rows})))}
    grants = [(perm, path) for role_id, path in rows for perm in roles[role_id].permissions]
    user._madam_grants = grants
    return grants


def remember_grants(user: User, grants) -> None:
    """Keep (permission, region path) pairs read with the user (the request's user loader reads them in the
    same statement as her row) as her grants for the rest of the request, as `_grants` would keep its own."""
    user._madam_grants = [tuple(grant) for grant in grants]


def forget_grants(user: User) -> None:
    user.__dict__.pop("_madam_grants", None)
    user.__dict__.pop("_madam_reach", None)


def has_permission(session, user, permission: str, region: Region | None = None) -> bool:
    """Whether `user` may do `permission` — anywhere, or in `region` when one is given."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    for perm, path in _grants(session, user):
        if perm == permission and (region is None or region.path.startswith(path)):
            return True
    return False


def role_region_paths(session, user) -> list[tuple[str, str]]:
    """(role code, region path) for every role the user holds: where work for that role reaches them."""
    return [tuple(row) for row in session.execute(
        select(Role.code, Region.path).select_from(Assignment)
        .join(Role, Assignment.role_id == Role.id).join(Region, Assignment.region_id == Region.id)
        .where(Assignment.user_id == user.id))]


def role_region_ids(session, user) -> dict[str, set[int]]:
    """For each role the user holds, the ids of the regions it reaches (where it is held and below), in one
    query, kept on the user object for the rest of the request like the grants."""
    cached = getattr(user, "_madam_reach", None)
    if cached is not None:
        return cached
    below = aliased(Region)
    rows = session.execute(
        select(Role.code, below.id).select_from(Assignment)
        .join(Role, Assignment.role_id == Role.id).join(Region, Assignment.region_id == Region.id)
        .join(below, below.path.startswith(Region.path))
        .where(Assignment.user_id == user.id))
    reach: dict[str, set[int]] = {}
    for role, region_id in rows:
        reach.setdefault(role, set()).add(region_id)
    user._madam_reach = reach
    return reach


def holds_role(session, user, role_code: str, region: Region) -> bool:
    """Whether the user holds the role in this region or in one above it."""
    rows = session.execute(
        select(Region.path).select_from(Assignment)
        .join(Role, Assignment.role_id == Role.id).join(Region, Assignment.region_id == Region.id)
        .where(Assignment.user_id == user.id, Role.code == role_code)
    ).scalars()
    return any(region.path.startswith(path) for path in rows)


def permission_region_paths(session, user, permission: str) -> list[str]:
    """The region paths where the user holds `permission`, none nested in another."""
    paths = sorted({path for perm, path in _grants(session, user) if perm == permission})
    return [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]


def scope_to_regions(stmt, region_id_column, session, user, permission: str):
    """Limit a query to rows whose region lies where the user holds `permission`.

    `region_id_column` is the query's column holding a `regions.id`. With no grant, nothing.
    """
    paths = permission_region_paths(session, user, permission)
    if not paths:
        return stmt.where(false())
    allowed = select(Region.id).where(or_(*(Region.path.startswith(p, autoescape=True) for p in paths)))
    return stmt.where(region_id_column.in_(allowed))


def allowed_regions(session, user, permission: str) -> list[Region]:
    stmt = scope_to_regions(select(Region), Region.id, session, user, permission)
    return list(session.scalars(stmt.order_by(Region.path)))
