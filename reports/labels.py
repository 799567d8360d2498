"""Words for the stored values the reports show (utilities, tariff types, channels, states), used by the
pages and by the exports alike."""

from flask_babel import lazy_gettext as _l

LABELS = {
    # utilities
    "electricity": _l("Electricity"), "water": _l("Water"), "gas": _l("Gas"),
    # tariff types
    "residential": _l("Residential"), "public": _l("Public"), "agricultural": _l("Agricultural"),
    "industrial": _l("Industrial"), "commercial": _l("Commercial"),
    # payment channels
    "bank": _l("Bank"), "pos": _l("Card reader (POS)"), "internet": _l("Internet"), "kiosk": _l("Kiosk"),
    # deadlines and installment plans
    "grace": _l("Grace period"), "plan": _l("Installment plan"),
    "kept": _l("Kept"), "current": _l("On track"), "overdue": _l("Overdue"), "broken": _l("Broken"),
    # outages
    "planned": _l("Planned"), "unplanned": _l("Unplanned"),
    # requests
    "running": _l("In progress"), "waiting": _l("Waiting"), "error": _l("Failed"), "suspended": _l("Suspended"),
    "completed": _l("Completed"), "terminated": _l("Stopped"),
    # billing runs
    "previewed": _l("Previewed"), "approved": _l("Approved"), "paused": _l("Paused"), "finished": _l("Finished"),
    "published": _l("Published"), "cancelled": _l("Cancelled"),
    # meters
    "installed": _l("Installed"), "removed": _l("Taken off"),
}


def label(value) -> str:
    return str(LABELS.get(str(value), value)) if value not in (None, "") else ""
