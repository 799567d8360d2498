"""Thirty believable subscribers for the demo utility, across its regions:
a premise each, a service point per utility the region serves, an installed meter and a contract.
Loading twice changes nothing (the first demo national ID is the marker)."""

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.audit import audit
from core.regions import Region
from subscribers import numbering, operations
from subscribers.models import Contract, Meter, MeterInstallation, Premise, ServicePoint, Subscriber
from subscribers.search import premise_search_text, subscriber_search_text

FIRST_NAMES = ["علی", "محمد", "حسین", "رضا", "مهدی", "زهرا", "فاطمه", "مریم", "سارا", "نرگس", "امیرحسین", "نیلوفر"]
LAST_NAMES = ["محمدی", "حسینی", "رضایی", "کریمی", "احمدی", "موسوی", "جعفری", "صادقی", "رحیمی", "شیرازی",
              "قاسمی", "نوروزی", "فرهادی", "کاظمی"]
FATHER_NAMES = ["حسن", "عباس", "اکبر", "جواد", "مصطفی", "ابراهیم"]
STREETS = ["خیابان زند", "بلوار چمران", "خیابان ملاصدرا", "بلوار معالی‌آباد", "خیابان قصردشت", "بلوار ارم",
           "خیابان حافظ", "بلوار مدرس"]
CITIES = {"shiraz-1": ("شیراز", Decimal("29.6100"), Decimal("52.5300")),
          "shiraz-2": ("شیراز", Decimal("29.6400"), Decimal("52.4800")),
          "marvdasht": ("مرودشت", Decimal("29.8740"), Decimal("52.8020"))}
COUNT = 30
FIRST_STEM = 2300001


def _national_id(stem: int) -> str:
    digits = f"{stem:09d}"
    remainder = sum(int(digits[i]) * (10 - i) for i in range(9)) % 11
    return digits + str(remainder if remainder < 2 else 11 - remainder)


def _capacity(utility: str) -> dict:
    return {"electricity": {"utility": "electricity", "phases": 1, "amperage": 25},
            "water": {"utility": "water", "pipe_diameter": "1/2"},
            "gas": {"utility": "gas", "gas_meter_size": "G4"}}[utility]


def _people(session, regions, rng) -> list[Subscriber]:
    people = []
    for n in range(COUNT):
        region = regions[n % len(regions)]
        person = Subscriber(**operations.subscriber_values(session, {
            "kind": "person", "first_name": rng.choice(FIRST_NAMES), "last_name": rng.choice(LAST_NAMES),
            "father_name": rng.choice(FATHER_NAMES), "national_id": _national_id(FIRST_STEM + n),
            "birth_date": date(1960, 1, 1) + timedelta(days=rng.randrange(15000)),
            "mobile": f"0917{rng.randrange(10**7):07d}", "region_id": region.id}))
        person.search_text = subscriber_search_text(person)
        people.append(person)
    return people


def _premise(session, person, region, rng) -> Premise:
    city, lat, lng = CITIES[region.code]
    premise = Premise(subscriber=person, **operations.premise_values(session, {
        "province": "فارس", "city": city, "street": rng.choice(STREETS), "alley": f"کوچه {rng.randrange(1, 40)}",
        "plaque": str(rng.randrange(1, 300)), "postal_code": f"71{rng.randrange(10**8):08d}",
        "latitude": lat + Decimal(rng.randrange(-300, 300)) / 10000,
        "longitude": lng + Decimal(rng.randrange(-300, 300)) / 10000,
        "region_id": region.id, "climate_zone": "warm4", "building_use": "residential"}))
    premise.search_text = premise_search_text(premise)
    return premise


def load_demo_registry(session, company_code: str = numbering.DEFAULT_COMPANY_CODE) -> int:
    """Adds the demo subscribers unless they are there; returns how many were added.

    Built in bulk (a few INSERTs, not the operations one by one) because every test that loads the
    demo pays for it; the values still pass the operations' validation and numbering."""
    if session.scalar(select(Subscriber.id).where(Subscriber.national_id == _national_id(FIRST_STEM))):
        return 0
    regions = [r for r in (session.scalar(select(Region).where(Region.code == code)) for code in CITIES) if r]
    if not regions:
        return 0
    rng = random.Random(1403)  # noqa: S311  (believable demo data, not secrets)
    people = _people(session, regions, rng)
    served = [(person, regions[n % len(regions)]) for n, person in enumerate(people)]
    premises = [_premise(session, person, region, rng) for person, region in served]
    points, meters = [], []
    for n, ((person, region), premise) in enumerate(zip(served, premises, strict=True)):
        for utility in region.utilities:
            points.append((person, region, ServicePoint(premise=premise, status="active", **_capacity(utility))))
            meters.append(Meter(serial=f"DM{utility[0].upper()}{n:05d}", utility=utility, kind="digital",
                                manufacturer="کنتورسازی ایران", manufacture_year=2020, region_id=region.id,
                                status="installed"))
    session.add_all([*people, *premises, *(p for _, _, p in points), *meters])
    session.flush()
    started = date(2023, 3, 21)
    first_file = numbering.reserve_numbers(session, "file", len(points))
    sequences = {r.id: numbering.reserve_numbers(session, f"subscription:{r.id}",
                                                 sum(1 for _, reg, _ in points if reg.id == r.id)) for r in regions}
    for n, ((person, region, point), meter) in enumerate(zip(points, meters, strict=True)):
        file_no = str(first_file + n)
        session.add(MeterInstallation(meter_id=meter.id, service_point_id=point.id, installed_on=started,
                                      initial_readings={"single": 0}))
        session.add(Contract(subscription_no=numbering.subscription_number(region.id, sequences[region.id]),
                             file_no=file_no, bill_id=numbering.bill_id_for(file_no, point.utility, company_code),
                             subscriber_id=person.id, service_point_id=point.id, region_id=region.id,
                             tariff_type="residential", start_date=started, status="active"))
        sequences[region.id] += 1
    session.flush()
    audit(session, None, "subscribers.demo_loaded", None, subscribers=COUNT)
    return COUNT
