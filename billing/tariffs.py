"""Tariff types and tariff versions: a draft is edited, publishing freezes it, and a published version
is never changed again (billing/models.py refuses it). Bills read the published versions only."""

from datetime import date

from flask_babel import gettext
from sqlalchemy import or_, select

from billing.models import TariffType, TariffVersion, VersionStatus
from billing.tariff import TariffInvalid, tariff_errors
from core.audit import audit
from core.db import utcnow
from core.errors import Conflict, DomainError, NotFound
from core.text import normalize_persian
from core.utilities import UTILITY_NAMES_FA, Utility

# code, slug (the registry's word), Persian name — per utility. Electricity follows the national booklet.
STANDARD_TARIFF_TYPES = {
    Utility.ELECTRICITY: [
        ("1", "residential", "خانگی"),
        ("2", "public", "عمومی"),
        ("3", "agricultural", "کشاورزی"),
        ("4", "industrial", "صنعتی"),
        ("5", "commercial", "تجاری و سایر مصارف"),
    ],
    Utility.WATER: [
        ("1", "residential", "خانگی"),
        ("2", "public", "عمومی و دولتی"),
        ("3", "commercial", "تجاری"),
        ("4", "industrial", "صنعتی"),
        ("5", "agricultural", "کشاورزی و دامداری"),
    ],
    Utility.GAS: [
        ("1", "residential", "خانگی"),
        ("2", "public", "عمومی"),
        ("3", "commercial", "تجاری"),
        ("4", "industrial", "صنعتی"),
        ("5", "agricultural", "کشاورزی"),
    ],
}  # fmt: skip


def ensure_tariff_types(session) -> None:
    """The standard tariff types, added where missing (the migration adds them too)."""
    have = set(session.execute(select(TariffType.utility, TariffType.code)).tuples())
    for utility, rows in STANDARD_TARIFF_TYPES.items():
        for code, slug, name in rows:
            if (utility.value, code) not in have:
                session.add(TariffType(utility=utility.value, code=code, slug=slug, name=name, active=True))
    session.flush()


def tariff_types(session, utility: str | None = None, active_only: bool = False) -> list[TariffType]:
    stmt = select(TariffType).order_by(TariffType.utility, TariffType.code)
    if utility:
        stmt = stmt.where(TariffType.utility == utility)
    if active_only:
        stmt = stmt.where(TariffType.active.is_(True))
    return list(session.scalars(stmt))


def tariff_type_choices(session, utility: str | None) -> list[tuple[str, str]]:
    """(code, Persian name) of the active tariff types of a utility, for a form's select. Without a
    utility, every utility's, each name prefixed by its utility (codes repeat across utilities)."""
    rows = tariff_types(session, utility, active_only=True)
    if utility:
        return [(t.code, t.name) for t in rows]
    return [(t.code, f"{UTILITY_NAMES_FA.get(t.utility, t.utility)} — {t.name}") for t in rows]


def find_tariff_type(session, utility: str, code_or_slug: str) -> TariffType | None:
    """A contract's tariff type: contracts hold the code ("1") or the registry's word ("residential")."""
    return session.scalar(select(TariffType).where(
        TariffType.utility == utility, or_(TariffType.code == code_or_slug, TariffType.slug == code_or_slug)))


def add_tariff_type(session, actor, utility: str, code: str, slug: str, name: str) -> TariffType:
    code, slug, name = (code or "").strip(), (slug or "").strip().lower(), normalize_persian(name or "")
    if utility not in set(Utility):
        raise DomainError("billing.utility_invalid", field="utility")
    if not code.isdigit() or len(code) > 8:
        raise DomainError("billing.type_code_invalid", field="code")
    if not slug or not slug.replace("_", "").isalnum() or not slug.isascii() or len(slug) > 32:
        raise DomainError("billing.type_slug_invalid", field="slug")
    if not name:
        raise DomainError("field.required", field="name")
    taken = session.scalar(select(TariffType.id).where(
        TariffType.utility == utility, or_(TariffType.code == code, TariffType.slug == slug)))
    if taken is not None:
        raise Conflict("billing.type_exists", field="code")
    tariff_type = TariffType(utility=utility, code=code, slug=slug, name=name[:100], active=True)
    session.add(tariff_type)
    session.flush()
    audit(session, actor, "billing.tariff_type_added", tariff_type, utility=utility, code=code, name=name)
    return tariff_type


def rename_tariff_type(session, actor, type_id: int, name: str, active: bool) -> TariffType:
    tariff_type = _get(session, TariffType, type_id)
    name = normalize_persian(name or "")
    if not name:
        raise DomainError("field.required", field="name")
    tariff_type.name, tariff_type.active = name[:100], bool(active)
    session.flush()
    audit(session, actor, "billing.tariff_type_changed", tariff_type, name=name, active=bool(active))
    return tariff_type


# --- versions ---------------------------------------------------------------------------------

def versions_of(session, tariff_type_id: int | None = None) -> list[TariffVersion]:
    stmt = select(TariffVersion).join(TariffType).order_by(
        TariffType.utility, TariffType.code, TariffVersion.effective_from.desc(), TariffVersion.id.desc())
    if tariff_type_id is not None:
        stmt = stmt.where(TariffVersion.tariff_type_id == tariff_type_id)
    return list(session.scalars(stmt))


def latest_published(session, tariff_type_id: int, code: str) -> TariffVersion | None:
    return session.scalar(select(TariffVersion).where(
        TariffVersion.tariff_type_id == tariff_type_id, TariffVersion.code == code,
        TariffVersion.status == VersionStatus.PUBLISHED).order_by(TariffVersion.effective_from.desc()).limit(1))


def _with_header(data: dict, tariff_type: TariffType, code: str, effective_from: date, name: str) -> dict:
    """The tariff JSON with its header fields taken from where the version is kept."""
    return {**data, "utility": tariff_type.utility, "tariff_type": tariff_type.code, "code": code,
            "name": name or data.get("name") or tariff_type.name, "effective_from": effective_from.isoformat()}


def _code(code: str) -> str:
    code = (code or "").strip()
    if not code or len(code) > 32 or not code.isascii() or not code.replace("-", "").replace("_", "").isalnum():
        raise DomainError("billing.tariff_code_invalid", field="code")
    return code


def create_draft(session, actor, tariff_type_id: int, code: str, effective_from: date, name: str = "",
                 data: dict | None = None) -> TariffVersion:
    """A new draft of the tariff `code` of a type; without data, a copy of its latest published version."""
    tariff_type = _get(session, TariffType, tariff_type_id)
    code = _code(code)
    if effective_from is None:
        raise DomainError("field.required", field="effective_from")
    if data is None:
        latest = latest_published(session, tariff_type_id, code)
        data = dict(latest.data) if latest else {"blocks": [{"upto": None, "rate": 0}]}
    name = normalize_persian(name or "") or ""
    draft = TariffVersion(tariff_type_id=tariff_type.id, code=code, effective_from=effective_from, name=name[:200],
                          status=VersionStatus.DRAFT,
                          data=_with_header(data, tariff_type, code, effective_from, name),
                          is_example=bool(data.get("example")), created_by_id=getattr(actor, "id", None))
    session.add(draft)
    session.flush()
    audit(session, actor, "billing.tariff_draft_created", draft, tariff_type=tariff_type.code, code=code,
          effective_from=effective_from.isoformat())
    return draft


def save_draft(session, actor, version_id: int, *, effective_from: date, name: str, data) -> TariffVersion:
    """Replace a draft's tariff. Invalid tariffs are refused whole (TariffInvalid lists every field)."""
    draft = _draft(session, version_id)
    if not isinstance(data, dict):
        raise TariffInvalid([{"field": "", "message": gettext("A tariff is a JSON object.")}])
    if effective_from is None:
        raise DomainError("field.required", field="effective_from")
    name = normalize_persian(name or "") or ""
    full = _with_header(data, draft.tariff_type, draft.code, effective_from, name)
    errors = tariff_errors(full)
    if errors:
        raise TariffInvalid(errors)
    draft.effective_from, draft.name, draft.data = effective_from, name[:200], full
    draft.is_example = bool(full.get("example"))
    session.flush()
    audit(session, actor, "billing.tariff_draft_saved", draft, effective_from=effective_from.isoformat())
    return draft


def publish(session, actor, version_id: int) -> TariffVersion:
    """Freeze a draft. It must be valid and start after every version of its tariff already published,
    so no bill already issued could have been calculated differently."""
    draft = _draft(session, version_id, lock=True)
    errors = tariff_errors(draft.data)
    if errors:
        raise TariffInvalid(errors)
    latest = latest_published(session, draft.tariff_type_id, draft.code)
    if latest is not None and draft.effective_from <= latest.effective_from:
        raise Conflict("billing.version_not_after_latest", field="effective_from", latest=latest.effective_from)
    draft.status, draft.published_at = VersionStatus.PUBLISHED, utcnow()
    draft.published_by_id = getattr(actor, "id", None)
    session.flush()
    audit(session, actor, "billing.tariff_published", draft, tariff_type_id=draft.tariff_type_id, code=draft.code,
          effective_from=draft.effective_from.isoformat())
    return draft


def discard_draft(session, actor, version_id: int) -> None:
    draft = _draft(session, version_id)
    audit(session, actor, "billing.tariff_draft_discarded", draft)
    session.delete(draft)
    session.flush()


def tariff_codes(session, tariff_type_id: int) -> list[str]:
    return list(session.scalars(select(TariffVersion.code).where(
        TariffVersion.tariff_type_id == tariff_type_id, TariffVersion.status == VersionStatus.PUBLISHED)
        .distinct().order_by(TariffVersion.code)))


def tariff_code_for(session, tariff_type: TariffType, climate_zone: str) -> str:
    """Which of a type's tariffs prices a contract in this climate zone: the one whose regional
    variants name the zone, else one without variants (the normal zone's), else the only one."""
    codes = tariff_codes(session, tariff_type.id)
    if not codes:
        raise DomainError("billing.no_tariff_in_force", tariff_type=tariff_type.name)
    plain = []
    for code in codes:
        data = latest_published(session, tariff_type.id, code).data
        zones = {zone for variant in data.get("variants") or [] for zone in variant.get("zones") or []}
        if climate_zone in zones:
            return code
        if not zones:
            plain.append(code)
    return (plain or codes)[0]


def versions_for_period(session, tariff_type_id: int, code: str, start: date, end: date) -> list[TariffVersion]:
    """The published versions of a tariff in force at some day of [start, end]: the last one starting
    on or before `start`, and every one starting inside the period."""
    published = select(TariffVersion).where(TariffVersion.tariff_type_id == tariff_type_id,
                                            TariffVersion.code == code,
                                            TariffVersion.status == VersionStatus.PUBLISHED)
    opening = session.scalar(published.where(TariffVersion.effective_from <= start)
                             .order_by(TariffVersion.effective_from.desc()).limit(1))
    inside = session.scalars(published.where(TariffVersion.effective_from > start,
                                             TariffVersion.effective_from <= end)
                             .order_by(TariffVersion.effective_from))
    versions = ([opening] if opening else []) + list(inside)
    if not versions or versions[0].effective_from > start:
        raise DomainError("billing.no_tariff_in_force", tariff_type=code)
    return versions


def _get(session, model, row_id):
    row = session.get(model, row_id)
    if row is None:
        raise NotFound("billing.not_found")
    return row


def _draft(session, version_id: int, lock: bool = False) -> TariffVersion:
    version = session.get(TariffVersion, version_id, with_for_update=lock or None)
    if version is None:
        raise NotFound("billing.not_found")
    if version.status != VersionStatus.DRAFT:
        raise Conflict("billing.version_published")
    return version
