"""Requests in flight for the demo, so that `make run` shows living cartables: a few in each procedure, left
at different steps and in different roles' cartables. Loading twice adds nothing (a procedure that already
has requests is left alone)."""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from billing.models import MeterReading
from core.accounts import User
from core.jalali import TEHRAN
from core.regions import Region
from engine import cartable, runtime
from engine.catalogue import sync_directory
from engine.models import Instance, WorkItem, WorkItemStatus
from engine.operations.registry_ops import today
from ledger import adjustments
from ledger.payments import PaymentRequest, post_payment
from madam.settings import REPO_ROOT
from subscribers import meter_ops
from subscribers.models import Contract, Meter, ServicePoint, Subscriber

INSPECTION_VISIT = {"visit_date": "2026-11-20", "reading": 48213, "seal_intact": False, "result": "faulty",
                    "visit_notes": "شیشه کنتور شکسته و شمارنده گیر می‌کند"}
STOCK = [("DEMO-E-0001", "electricity"), ("DEMO-E-0002", "electricity"), ("DEMO-E-0003", "electricity"),
         ("DEMO-W-0001", "water"), ("DEMO-W-0002", "water")]


class _Demo:
    """The demo's people, its first region and the registry rows the requests are about."""

    def __init__(self, session):
        self.session = session
        self.users = {u.username: u for u in session.scalars(select(User))}
        self.region = session.scalar(select(Region).where(Region.code == "shiraz-1"))
        self.contracts = list(session.scalars(select(Contract).join(ServicePoint).where(
            Contract.region_id == self.region.id, Contract.status == "active",
            ServicePoint.utility == "electricity").order_by(Contract.id)))
        self.subscribers = list(session.scalars(select(Subscriber).where(Subscriber.region_id == self.region.id)
                                                .order_by(Subscriber.id)))
        self.day = today().isoformat()

    def start(self, process_key, who="clerk", **data):
        return runtime.start_instance(self.session, self.users[who], process_key, self.region, data=data or None)

    def step(self, instance, who, data):
        """The instance's open task done by `who` (taken first, as an expert does)."""
        item = self.session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                          WorkItem.status == WorkItemStatus.OPEN))
        cartable.claim(self.session, self.users[who], item.id)
        cartable.complete(self.session, self.users[who], item.id, data)
        return instance

    def pay(self, contract_id, amount, reference):
        post_payment(self.session, None, PaymentRequest(channel="bank", reference=reference, amount=amount,
                                                        paid_on=today(), contract_id=contract_id))

    def debt(self, contract, amount):
        adjustments.post_fee(self.session, None, contract.id, amount, "demo", "بدهی معوق (داده نمونه)",
                             today() - timedelta(days=45))


def _stock(session, region) -> None:
    for serial, utility in STOCK:
        if session.scalar(select(Meter.id).where(Meter.serial == serial)) is None:
            meter_ops.register_meter(session, None, {"serial": serial, "utility": utility, "kind": "digital",
                                                     "manufacturer": "کنتورسازی ایران", "manufacture_year": 2025,
                                                     "region_id": region.id})


def _meter_inspection(d: _Demo):
    request = {"subscription_no": d.contracts[0].subscription_no, "reason": "high_consumption",
               "mobile": "09171234567", "description": "مشترک از قبض دو ماه اخیر شکایت دارد"}
    started = [d.start("meter_inspection") for _ in range(4)]
    for instance in started[1:]:  # the second waits for the inspector, the third for the engineer, the fourth the lab
        d.step(instance, "clerk", request)
    for instance in started[2:]:
        d.step(instance, "inspector", INSPECTION_VISIT)
    d.step(started[3], "engineer", {"decision": "lab", "review_notes": "برای آزمون دقت به آزمایشگاه ارسال شود"})
    return started


CONNECTION = {"service": "electricity-1-25", "tariff_type": "residential", "building_use": "residential",
              "province": "فارس", "city": "شیراز", "district": "معالی‌آباد", "street": "خیابان نیایش",
              "alley": "کوچه ۸", "plaque": "۱۲", "unit": "", "postal_code": "7134511111", "location": None,
              "documents": ["national_card", "deed"], "description": ""}
SURVEY = {"survey_date": "2026-11-26", "feasible": "yes", "survey_location": {"lat": 29.6123, "lng": 52.5311},
          "network_distance": 15, "site_photo": None, "survey_note": "شبکه هوایی در نزدیکی ملک"}


def _new_connection(d: _Demo):
    started = [d.start("new_connection") for _ in range(5)]
    for n, instance in enumerate(started):
        d.step(instance, "clerk", {**CONNECTION, "subscriber_id": d.subscribers[n].id,
                                   "postal_code": f"713451111{n}"})
    for instance in started[1:]:
        d.step(instance, "clerk", {"documents_complete": "yes", "documents_note": ""})
    for instance in started[2:]:
        d.step(instance, "inspector", SURVEY)
    for instance in started[3:]:
        d.step(instance, "engineer", {"decision": "approve", "decision_note": ""})
    # the fourth waits for its fee; the fifth has paid and waits for the technician
    d.session.refresh(started[4])
    d.pay(started[4].contract_id, 30_000_000, f"DEMO-{started[4].business_key}")
    return started


def _new_subscriber(d: _Demo):
    identity = {"kind": "person", "first_name": "نیلوفر", "last_name": "صادقی", "father_name": "مصطفی",
                "birth_date": "1992-03-14", "legal_name": "", "national_id": "0084575948", "economic_code": "",
                "registration_no": "", "mobile": "09177654321", "phone": "", "email": "",
                "documents": ["national_card", "birth_certificate"]}
    waiting = d.step(d.start("new_subscriber"), "clerk", identity)
    return [waiting, d.start("new_subscriber")]


def _meter_replacement(d: _Demo):
    first = d.step(d.start("meter_replacement"), "clerk",
                   {"contract_id": d.contracts[1].id, "reason": "faulty", "description": "کنتور خاموش است"})
    second = d.step(d.start("meter_replacement"), "clerk",
                    {"contract_id": d.contracts[2].id, "reason": "upgrade", "description": "کنتور هوشمند"})
    d.step(second, "inspector", {"inspected_on": d.day, "current_reading": 15230, "verdict": "replace",
                                 "inspection_note": "کنتور مکانیکی فرسوده"})
    return [first, second]


def _ownership_change(d: _Demo):
    buyer = d.subscribers[-1]
    first = d.step(d.start("ownership_change"), "clerk",
                   {"contract_id": d.contracts[3].id, "new_owner_id": buyer.id, "documents": ["deed", "national_card"],
                    "description": ""})
    second = d.step(d.start("ownership_change"), "clerk",
                    {"contract_id": d.contracts[4].id, "new_owner_id": buyer.id, "documents": ["deed"],
                     "description": "فروش ملک"})
    final = _final_reading(d, d.contracts[4], use=180)
    if final is not None:  # with the demo's readings loaded: the settlement bill is issued at this reading
        d.step(second, "inspector", final)
    return [first, second]


def _final_reading(d: _Demo, contract, use: int) -> dict | None:
    """The final reading form: the contract's last reading of each register plus `use`."""
    last = {r.register: r.value for r in d.session.scalars(select(MeterReading).where(
        MeterReading.contract_id == contract.id).order_by(MeterReading.read_on, MeterReading.id))}
    if not last:
        return None
    values = {register: value + use for register, value in last.items()}
    return {"final_reading": values.get("single", sum(values.values())), "final_peak": values.get("peak"),
            "final_mid": values.get("mid"), "final_offpeak": values.get("offpeak"), "read_on": d.day,
            "reading_confirmed": False, "reading_note": ""}


def _payment_terms(d: _Demo):
    started = []
    for contract, kind in ((d.contracts[5], "installments"), (d.contracts[6], "grace")):
        d.debt(contract, 24_500_000)
        started.append(d.step(d.start("payment_terms"), "clerk", {
            "contract_id": contract.id, "kind": kind, "requested_count": 6 if kind == "installments" else None,
            "requested_due_on": (today() + timedelta(days=40)).isoformat() if kind == "grace" else None,
            "reason": "مشترک توان پرداخت یکجای بدهی را ندارد"}))
    return started


def _outage(d: _Demo):
    instance = d.start("outage_registration", who="engineer")
    return [d.step(instance, "engineer", {
        "utility": "electricity", "kind": "unplanned", "ends_at": None,
        "starts_at": (datetime.now(TEHRAN) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "cause": "سوختن کابل فشار ضعیف خیابان زند", "scope": "region", "contract_1": None, "contract_2": None,
        "contract_3": None})]


def _disconnection(d: _Demo):
    debtor = d.contracts[7]
    d.debt(debtor, 9_800_000)
    return [runtime.start_instance(d.session, None, "disconnection", d.region, subscriber_id=debtor.subscriber_id,
                                   contract_id=debtor.id, data={"contract_id": debtor.id, "overdue": 9_800_000})]


def _relocation(d: _Demo):
    instance = d.step(d.start("meter_relocation"), "clerk", {
        "contract_id": d.contracts[8].id, "requested_place": "دیوار بیرونی، کنار در پارکینگ",
        "reason": "نوسازی نمای ساختمان"})
    return [instance]


PROCEDURES = [("meter_inspection", _meter_inspection), ("new_connection", _new_connection),
              ("new_subscriber", _new_subscriber), ("meter_replacement", _meter_replacement),
              ("ownership_change", _ownership_change), ("payment_terms", _payment_terms),
              ("outage_registration", _outage), ("disconnection", _disconnection),
              ("meter_relocation", _relocation)]


def load_demo_requests(session) -> int:
    """Deploy the built-in procedures and, for each procedure without requests yet, leave a few in flight."""
    sync_directory(session, None, REPO_ROOT / "processes", REPO_ROOT / "forms")
    demo = _Demo(session)
    if demo.region is None or len(demo.contracts) < 9 or not demo.users:
        return 0
    _stock(session, demo.region)
    started = 0
    for process_key, leave_in_flight in PROCEDURES:
        if session.scalar(select(func.count(Instance.id)).where(Instance.process_key == process_key)):
            continue
        started += len(leave_in_flight(demo))
    return started

