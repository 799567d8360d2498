"""The one search box: identifiers exact or by prefix, names and addresses fuzzy and Persian-normalised."""

from datetime import date

import pytest
from sqlalchemy import select, text

from core.regions import Region
from subscribers import contract_ops, meter_ops, operations
from subscribers.search import search, search_key, text_search


def _region(session, code):
    return session.scalar(select(Region).where(Region.code == code))


@pytest.fixture
def registry(session, demo):
    shiraz1, shiraz2 = _region(session, "shiraz-1"), _region(session, "shiraz-2")
    people = {}
    for key, first, last, nid, mobile, reg in [
        ("ali", "علی", "محمدی", "0499370899", "09127770001", shiraz1),
        ("kiana", "کیانا", "شکیبایی", "0084575948", "09127770002", shiraz1),
        ("reza", "رضا", "نیک‌پور", "1234567891", "09127770003", shiraz2),
    ]:
        people[key] = operations.create_subscriber(session, None, {
            "kind": "person", "first_name": first, "last_name": last, "national_id": nid, "mobile": mobile,
            "region_id": reg.id})
    premise = operations.create_premise(session, None, people["ali"], {
        "province": "فارس", "city": "شیراز", "street": "بلوار کریم‌خان زند", "alley": "کوچه ۱۲",
        "postal_code": "7155512345", "region_id": shiraz1.id})
    point = operations.add_service_point(session, None, premise, {"utility": "electricity", "phases": 3,
                                                                  "amperage": 32})
    meter = meter_ops.register_meter(session, None, {"serial": "SMX-778899", "utility": "electricity",
                                                     "kind": "smart", "region_id": shiraz1.id})
    meter_ops.install_meter(session, None, meter.id, point.id, date(2024, 1, 1), {"single": 0})
    contract = contract_ops.open_contract(session, None, people["ali"].id, point.id, date(2024, 1, 1),
                                          {"tariff_type": "residential"})
    return {**people, "contract": contract, "meter": meter, "shiraz1": shiraz1, "shiraz2": shiraz2}


def test_search_key_normalises_persian_spellings():
    assert search_key("علي  كاظمي") == "علی کاظمی"
    assert search_key("نیک\u200cپور") == "نیکپور"
    assert search_key("آرش ۱۲۳") == "ارش 123"


def test_a_name_typed_with_arabic_yeh_and_a_typo_is_found(session, registry):
    hits = search(session, "علي محمدى")  # Arabic yeh, alef maksura
    assert hits[0].subscriber_id == registry["ali"].id and hits[0].field == "name"
    typo = search(session, "علی محمدیی")  # one letter too many
    assert typo[0].subscriber_id == registry["ali"].id
    assert search(session, "كيانا شكيبائي")[0].subscriber_id == registry["kiana"].id  # kaf, yeh, hamza


def test_half_spaces_do_not_matter(session, registry):
    for typed in ("نیکپور", "نیک پور", "نیک\u200cپور"):
        assert search(session, typed)[0].subscriber_id == registry["reza"].id, typed


def test_a_partial_address_is_found(session, registry):
    hits = search(session, "کریمخان زند")
    assert hits[0].subscriber_id == registry["ali"].id and hits[0].field == "address"


@pytest.mark.parametrize("field", ["subscription_no", "bill_id", "national_id", "mobile", "postal_code"])
def test_identifiers_exact_and_by_prefix(session, registry, field):
    value = {"subscription_no": registry["contract"].subscription_no, "bill_id": registry["contract"].bill_id,
             "national_id": registry["ali"].national_id, "mobile": registry["ali"].mobile,
             "postal_code": "7155512345"}[field]
    exact = search(session, value)
    assert (exact[0].subscriber_id, exact[0].field, exact[0].score) == (registry["ali"].id, field, 1.0)
    prefix = search(session, value[:-1])
    assert registry["ali"].id in [h.subscriber_id for h in prefix]


def test_persian_digits_and_a_meter_serial(session, registry):
    assert search(session, "۰۴۹۹۳۷۰۸۹۹")[0].subscriber_id == registry["ali"].id
    hit = search(session, "smx-7788")[0]
    assert (hit.field, hit.meter_id, hit.subscriber_id) == ("serial", registry["meter"].id, registry["ali"].id)


def test_results_stay_inside_the_given_regions(session, registry):
    assert search(session, "نیکپور", region_ids=[registry["shiraz1"].id]) == []
    assert search(session, "0499370899", region_ids=[registry["shiraz2"].id]) == []


def test_the_fallback_used_on_sqlite_finds_the_same_names(session, registry, monkeypatch):
    from subscribers import search as search_module

    monkeypatch.setattr(search_module, "is_postgresql", lambda _session: False)
    hits = text_search(session, search_key("علي محمدي"), None, 10)
    assert hits[0].subscriber_id == registry["ali"].id
    assert text_search(session, search_key("كيانا"), None, 10)[0].subscriber_id == registry["kiana"].id


def test_the_trigram_and_prefix_indexes_are_used(session, registry):
    session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: ask whether the index can serve
    plan = "\n".join(session.scalars(text(
        "EXPLAIN SELECT id FROM subscribers WHERE 'محمدی' <% search_text")))
    assert "ix_subscribers_search_trgm" in plan
    plan = "\n".join(session.scalars(text("EXPLAIN SELECT id FROM contracts WHERE subscription_no LIKE '0041%'")))
    assert "uq_contracts_subscription_no" in plan
