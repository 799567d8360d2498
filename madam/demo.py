"""A believable small utility for trying Madam: three regions (امور), each with an office, and one
user per standard role. Loading twice changes nothing."""

from datetime import datetime

from sqlalchemy import select

from billing.demo import load_demo_billing, load_example_tariffs
from core import account_ops
from core.accounts import Role, User
from core.jalali import TEHRAN
from core.regions import Region, RegionKind, add_region
from core.standard_roles import ensure_standard_roles
from ledger.accounts import open_contract_account
from ledger.models import Account
from subscribers.demo import load_demo_registry
from subscribers.models import Contract

DEMO_PASSWORD = "madam1403"  # noqa: S105  (demo data, printed by `make run`)

COMPANY = ("demo", "شرکت خدمات مشترکین نمونهٔ فارس", "Fars sample distribution company",
           ["electricity", "water", "gas"])
REGIONS = [
    # code, name, English name, utilities, (office code, office name)
    ("shiraz-1", "امور یک شیراز", "Shiraz district 1", ["electricity", "water"],
     ("shiraz-1-maali", "دفتر پیشخوان معالی‌آباد")),
    ("shiraz-2", "امور دو شیراز", "Shiraz district 2", ["electricity", "gas"],
     ("shiraz-2-sadra", "دفتر پیشخوان صدرا")),
    ("marvdasht", "امور مرودشت", "Marvdasht district", ["electricity", "water", "gas"],
     ("marvdasht-center", "دفتر پیشخوان مرکزی مرودشت")),
]
USERS = [
    # username, full name, role, region code, national-id stem (9 digits), mobile
    ("clerk", "زهرا احمدی", "counter_clerk", "shiraz-1", "228012345", "09171234501"),
    ("inspector", "علی رضایی", "inspector", "shiraz-1", "228012346", "09171234502"),
    ("technician", "مهدی کریمی", "meter_technician", "shiraz-1", "228012347", "09171234503"),
    ("engineer", "مریم حسینی", "engineer", "demo", "228012348", "09171234504"),
    ("billing", "رضا محمدی", "billing_expert", "demo", "228012349", "09171234505"),
    ("finance", "فاطمه موسوی", "finance", "demo", "228012350", "09171234506"),
    ("supervisor", "نرگس صادقی", "billing_supervisor", "demo", "228012353", "09171234509"),
    ("analyst", "سارا جعفری", "analyst", "demo", "228012351", "09171234507"),
    ("admin", "حسن کاظمی", "admin", "demo", "228012352", "09171234508"),
]  # fmt: skip


def national_id_from_stem(stem: str) -> str:
    """A valid national ID: the nine given digits and their check digit."""
    remainder = sum(int(stem[i]) * (10 - i) for i in range(9)) % 11
    return stem + str(remainder if remainder < 2 else 11 - remainder)


def _region(session, code, name, name_en, kind, parent, utilities) -> Region:
    region = session.scalar(select(Region).where(Region.code == code))
    return region or add_region(session, code, name, kind, parent, utilities, name_en=name_en)


def load_demo(session) -> list[tuple[User, Role]]:
    ensure_standard_roles(session)
    code, name, name_en, utilities = COMPANY
    company = _region(session, code, name, name_en, RegionKind.COMPANY, None, utilities)
    for code, name, name_en, utilities, (office_code, office_name) in REGIONS:
        region = _region(session, code, name, name_en, RegionKind.REGION, company, utilities)
        _region(session, office_code, office_name, "", RegionKind.OFFICE, region, utilities)
    loaded = []
    for username, full_name, role_code, region_code, stem, mobile in USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = account_ops.create_user(session, None, username=username, full_name=full_name,
                                           password=DEMO_PASSWORD, national_id=national_id_from_stem(stem),
                                           mobile=mobile)
        role = session.scalar(select(Role).where(Role.code == role_code))
        region = session.scalar(select(Region).where(Region.code == region_code))
        account_ops.assign_role(session, None, user, role, region)
        loaded.append((user, role))
    load_demo_registry(session)
    _open_ledger_accounts(session)
    load_example_tariffs(session)
    return loaded


def load_demo_billing_activity(session) -> None:
    """Readings for the demo contracts and a few issued bills (kept out of load_demo, which tests use:
    bills post journals to the ledger)."""
    load_demo_billing(session, datetime.now(TEHRAN).date())


def _open_ledger_accounts(session) -> None:
    """The demo's contracts are inserted in bulk, past the signal that opens their ledger accounts."""
    known = set(session.scalars(select(Account.contract_id).where(Account.contract_id.is_not(None))))
    for contract in session.scalars(select(Contract).order_by(Contract.id)):
        if contract.id not in known:
            open_contract_account(session, None, contract.id, contract.region_id, contract.bill_id)
