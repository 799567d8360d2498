"""Words for the registry's stored values (statuses, kinds, utilities…) in the user's language."""

from flask_babel import lazy_gettext as _l

LABELS = {
    # subscriber kinds
    "person": _l("Natural person"), "legal": _l("Legal entity"),
    # utilities
    "electricity": _l("Electricity"), "water": _l("Water"), "gas": _l("Gas"),
    # service point and contract statuses
    "requested": _l("Requested"), "active": _l("Active"), "disconnected": _l("Disconnected"),
    "terminated": _l("Terminated"), "closed": _l("Closed"), "transferred": _l("Transferred to a new owner"),
    # meters
    "mechanical": _l("Mechanical"), "digital": _l("Digital"), "smart": _l("Smart"), "prepaid": _l("Prepaid"),
    "in_stock": _l("In stock"), "installed": _l("Installed"), "in_test": _l("In test"), "faulty": _l("Faulty"),
    "retired": _l("Retired"),
    "single": _l("Single register"), "peak": _l("Peak"), "mid": _l("Mid-load"), "offpeak": _l("Off-peak"),
    "reactive": _l("Reactive"),
    # climate zones and building uses
    "normal": _l("Normal"), "warm1": _l("Warm 1"), "warm2": _l("Warm 2"), "warm3": _l("Warm 3"),
    "warm4": _l("Warm 4"),
    "residential": _l("Residential"), "commercial": _l("Commercial"), "industrial": _l("Industrial"),
    "agricultural": _l("Agricultural"), "public": _l("Public"), "other": _l("Other"),
    # documents
    "national_card": _l("National ID card"), "deed": _l("Title deed"), "lease": _l("Lease"),
    "permit": _l("Building permit"), "photo": _l("Photo"),
    # what a search hit matched
    "name": _l("Name"), "address": _l("Address"), "subscription_no": _l("Subscription number"),
    "file_no": _l("File number"), "bill_id": _l("Bill ID"), "national_id": _l("National ID"),
    "mobile": _l("Mobile"), "postal_code": _l("Postal code"), "serial": _l("Meter serial"),
}


def label(value) -> str:
    return LABELS.get(str(value), str(value)) if value is not None else ""
