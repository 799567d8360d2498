"""Passwords (argon2) and signing in, with lockout after repeated failures."""

import enum
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update

from core.accounts import User
from core.audit import audit
from core.db import utcnow
from core.errors import DomainError
from core.text import to_ascii_digits

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
# Verifying against this when the username is unknown keeps the response time the same, so
# timing does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError("password.too_short", field="password", minimum=MIN_PASSWORD_LENGTH)


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    INACTIVE = "inactive"


@dataclass
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None


def normalize_username(username: str) -> str:
    return to_ascii_digits(username or "").strip().lower()


def authenticate(session, username: str, password: str, max_failures: int, lockout: timedelta) -> LoginResult:
    """Check a username and password, counting failures; the caller commits whatever the outcome."""
    name = normalize_username(username)
    user = session.scalar(select(User).where(func.lower(User.username) == name))
    if user is None:
        _verify(_DUMMY_HASH, password)
        audit(session, None, "login.unknown_user", username=name[:64])
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        audit(session, user, "login.refused_locked", user)
        return LoginResult(LoginOutcome.LOCKED, user)
    if not _verify(user.password_hash, password):
        # One atomic increment: two wrong passwords at the same moment both count.
        failures = session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
        ).scalar_one()
        if failures >= max_failures:
            session.execute(
                update(User).where(User.id == user.id).values(locked_until=now + lockout, failed_logins=0)
            )
            audit(session, user, "login.locked", user, failures=failures)
            session.expire(user)
            return LoginResult(LoginOutcome.LOCKED, user)
        audit(session, user, "login.failed", user, failures=failures)
        session.expire(user)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, user)
    if not user.active:
        audit(session, user, "login.refused_inactive", user)
        return LoginResult(LoginOutcome.INACTIVE, user)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit(session, user, "login.succeeded", user)
    return LoginResult(LoginOutcome.OK, user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False
