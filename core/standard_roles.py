"""The roles a distribution company starts with. Admins may change them afterwards."""

from core import permissions as p
from core.account_ops import ensure_role

STANDARD_ROLES = [
    # code, Persian name, English name, permissions
    ("counter_clerk", "کارشناس پیشخوان", "Counter clerk",
     [p.CARTABLE_USE, p.SUBSCRIBERS_VIEW, p.SUBSCRIBERS_EDIT, p.BILLING_VIEW, p.LEDGER_VIEW]),
    ("inspector", "بازدیدکننده", "Inspector", [p.CARTABLE_USE, p.SUBSCRIBERS_VIEW]),
    ("meter_technician", "تکنسین کنتور", "Meter technician", [p.CARTABLE_USE, p.SUBSCRIBERS_VIEW]),
    ("engineer", "کارشناس فنی", "Engineer", [p.CARTABLE_USE, p.SUBSCRIBERS_VIEW, p.REPORTS_VIEW]),
    ("billing_expert", "کارشناس صدور صورتحساب", "Billing expert",
     [p.CARTABLE_USE, p.SUBSCRIBERS_VIEW, p.TARIFFS_MANAGE, p.BILLING_VIEW, p.BILLING_RUN, p.LEDGER_VIEW,
      p.REPORTS_VIEW]),
    ("billing_supervisor", "سرپرست صدور صورتحساب", "Billing supervisor",
     [p.CARTABLE_USE, p.SUBSCRIBERS_VIEW, p.BILLING_VIEW, p.BILLING_RUN, p.LEDGER_VIEW, p.REPORTS_VIEW]),
    ("finance", "کارشناس مالی", "Finance",
     [p.CARTABLE_USE, p.SUBSCRIBERS_VIEW, p.BILLING_VIEW, p.LEDGER_VIEW, p.LEDGER_POST, p.REPORTS_VIEW]),
    ("analyst", "تحلیلگر فرآیند", "Process analyst", [p.PROCESSES_MODEL, p.PROCESSES_DEPLOY, p.REPORTS_VIEW]),
    ("admin", "مدیر سامانه", "Administrator", sorted(p.PERMISSIONS)),
]  # fmt: skip


def ensure_standard_roles(session, actor=None):
    return [ensure_role(session, actor, *row) for row in STANDARD_ROLES]
