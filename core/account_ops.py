"""Changes to users, roles and assignments. Each flushes and audits; the caller commits."""

import re

from sqlalchemy import func, select

from core.accounts import Assignment, Role, RolePermission, User
from core.audit import audit
from core.auth import check_password_strength, hash_password, normalize_username
from core.db import utcnow
from core.errors import DomainError
from core.identifiers import is_national_id, normalize_mobile
from core.permissions import PERMISSIONS, forget_grants
from core.regions import Region
from core.text import digits_only, normalize_persian

_USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")


def create_user(session, actor, *, username, full_name, password, national_id=None, mobile=None,
                email=None, locale="fa") -> User:
    name = normalize_username(username)
    if not _USERNAME_RE.match(name):
        raise DomainError("user.username_invalid", field="username")
    if session.scalar(select(User.id).where(func.lower(User.username) == name)):
        raise DomainError("user.username_taken", field="username", username=name)
    check_password_strength(password)
    user = User(username=name, password_hash=hash_password(password), password_changed_at=utcnow(),
                locale=locale, active=True, failed_logins=0)
    _apply_profile(user, full_name=full_name, national_id=national_id, mobile=mobile, email=email)
    session.add(user)
    session.flush()
    audit(session, actor, "user.created", user, username=name)
    return user


def update_user(session, actor, user: User, *, full_name, national_id=None, mobile=None, email=None,
                active=True) -> User:
    before = {"full_name": user.full_name, "national_id": user.national_id, "mobile": user.mobile,
              "email": user.email, "active": user.active}
    _apply_profile(user, full_name=full_name, national_id=national_id, mobile=mobile, email=email)
    if actor is not None and getattr(actor, "id", None) == user.id and not active:
        raise DomainError("user.cannot_deactivate_self", field="active")
    user.active = bool(active)
    after = {key: getattr(user, key) for key in before}
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    session.flush()
    if changes:
        audit(session, actor, "user.updated", user, changes=changes)
    return user


def set_password(session, actor, user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit(session, actor, "user.password_set", user)


def unlock_user(session, actor, user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit(session, actor, "user.unlocked", user)


def assign_role(session, actor, user: User, role: Role, region: Region) -> Assignment:
    existing = session.scalar(
        select(Assignment).where(
            Assignment.user_id == user.id, Assignment.role_id == role.id, Assignment.region_id == region.id
        )
    )
    if existing:
        return existing
    assignment = Assignment(user=user, role=role, region=region)
    session.add(assignment)
    session.flush()
    forget_grants(user)
    audit(session, actor, "user.role_assigned", user, role=role.code, region=region.code)
    return assignment


def remove_assignment(session, actor, assignment: Assignment) -> None:
    user = assignment.user
    detail = {"role": assignment.role.code, "region": assignment.region.code}
    session.delete(assignment)
    session.flush()
    forget_grants(user)
    audit(session, actor, "user.role_removed", user, **detail)


def ensure_role(session, actor, code: str, name: str, name_en: str, permissions) -> Role:
    """Create the role or bring its name and permissions to those given."""
    unknown = set(permissions) - set(PERMISSIONS)
    if unknown:
        raise KeyError(f"unknown permissions {sorted(unknown)}")
    role = session.scalar(select(Role).where(Role.code == code))
    if role is None:
        role = Role(code=code, name=name, name_en=name_en)
        session.add(role)
    role.name, role.name_en = name, name_en
    wanted = set(permissions)
    if role.permissions != wanted:
        # Remove, flush, then add: the unit of work would otherwise insert before it deletes.
        for row in [r for r in role.permission_rows if r.permission not in wanted]:
            role.permission_rows.remove(row)
        session.flush()
        have = role.permissions
        role.permission_rows.extend(RolePermission(permission=p) for p in sorted(wanted - have))
        session.flush()
        audit(session, actor, "role.permissions_set", role, permissions=sorted(wanted))
    session.flush()
    return role


def _apply_profile(user: User, *, full_name, national_id, mobile, email) -> None:
    full_name = normalize_persian(full_name or "")
    if not full_name:
        raise DomainError("field.required", field="full_name")
    user.full_name = full_name[:200]
    if national_id:
        if not is_national_id(national_id):
            raise DomainError("national_id.invalid", field="national_id")
        user.national_id = digits_only(national_id)
    else:
        user.national_id = None
    if mobile:
        normalized = normalize_mobile(mobile)
        if normalized is None:
            raise DomainError("mobile.invalid", field="mobile")
        user.mobile = normalized
    else:
        user.mobile = None
    user.email = (email or "").strip() or None
