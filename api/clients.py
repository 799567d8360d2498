"""Integration clients: issue a token (shown once, stored hashed), find the client a token belongs
to, and answer what a client may do where (its scopes are permission codes, its regions reach below)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select

from api.models import ApiClient, ApiToken
from core.audit import audit
from core.db import utcnow
from core.errors import DomainError
from core.permissions import PERMISSIONS
from core.regions import Region

LAST_USED_PRECISION = timedelta(minutes=1)
TOKEN_PREFIX = "mdm_"  # noqa: S105 (a prefix, not a secret)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ClientActor:
    """The actor of an operation a client asked for: no user row, a name the audit log shows."""

    client_id: int
    name: str
    id: None = None
    is_authenticated: bool = True
    active: bool = True

    @property
    def username(self) -> str:
        return f"api:{self.name}"[:64]


def create_client(session, actor, name: str, scopes: list[str], region_ids: list[int], description: str = "",
                  rate_limit: int = 600) -> tuple[ApiClient, str]:
    """A new client and its first token: (client, the plain token — shown once, never stored)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise DomainError("api.client_name_invalid", field="name")
    if session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise DomainError("api.client_name_taken", field="name")
    unknown = sorted(set(scopes) - set(PERMISSIONS))
    if unknown or not scopes:
        raise DomainError("api.scope_unknown", field="scopes", scopes=", ".join(unknown))
    regions = list(session.scalars(select(Region).where(Region.id.in_(region_ids or [0]))))
    if not regions or len(regions) != len(set(region_ids)):
        raise DomainError("api.region_unknown", field="region_ids")
    if not isinstance(rate_limit, int) or not 1 <= rate_limit <= 100_000:
        raise DomainError("api.rate_limit_invalid", field="rate_limit")
    client = ApiClient(name=name, description=(description or "")[:500], scopes=sorted(set(scopes)),
                       region_ids=sorted(set(region_ids)), rate_limit=rate_limit,
                       created_by_id=getattr(actor, "id", None))
    session.add(client)
    session.flush()
    audit(session, actor, "api.client_created", client, name=name, scopes=client.scopes, regions=client.region_ids)
    return client, issue_token(session, actor, client)


def issue_token(session, actor, client: ApiClient) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(client_id=client.id, token_hash=hash_token(token), prefix=token[:10]))
    session.flush()
    audit(session, actor, "api.token_issued", client, prefix=token[:10])
    return token


def revoke_token(session, actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise DomainError("api.token_unknown")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit(session, actor, "api.token_revoked", token.client, prefix=token.prefix)
    return token


def set_client_active(session, actor, client_id: int, active: bool) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise DomainError("api.client_unknown")
    client.active = active
    session.flush()
    audit(session, actor, "api.client_enabled" if active else "api.client_disabled", client)
    return client


def client_for_token(session, token: str) -> ApiClient | None:
    """The active client of a live token, or None. Marks when the token was last used."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = session.execute(select(ApiToken, ApiClient).join(ApiClient, ApiToken.client_id == ApiClient.id)
                          .where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.ApiToken.revoked_at is not None or not row.ApiClient.active:
        return None
    now = utcnow()
    if row.ApiToken.last_used_at is None or now - row.ApiToken.last_used_at > LAST_USED_PRECISION:
        row.ApiToken.last_used_at = now  # not on every call: a busy bank would write this row all day
    return row.ApiClient


def token_id_for(session, token: str) -> int | None:
    return session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(token)))


def region_paths(session, client: ApiClient) -> list[str]:
    return list(session.scalars(select(Region.path).where(Region.id.in_(client.region_ids or [0]))))


def client_reaches(session, client: ApiClient, region: Region) -> bool:
    return any(region.path.startswith(path) for path in region_paths(session, client))


def client_region_ids(session, client: ApiClient) -> list[int]:
    paths = region_paths(session, client)
    if not paths:
        return []
    return list(session.scalars(select(Region.id).where(or_(*(Region.path.startswith(p, autoescape=True)
                                                              for p in paths)))))


def clients(session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.name)))
