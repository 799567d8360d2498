"""Iranian identifiers validated on input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.identifiers import is_legal_entity_id, is_national_id, mod11_check_digit, normalize_mobile
from madam.demo import national_id_from_stem


@pytest.mark.parametrize("code", ["0499370899", "0790419904", "۰۴۹۹۳۷۰۸۹۹"])
def test_valid_national_ids(code):
    assert is_national_id(code)


@pytest.mark.parametrize("code", ["0499370898", "1111111111", "049937089", "04993708990", "", None])
def test_invalid_national_ids(code):
    assert not is_national_id(code)


def test_demo_national_ids_are_valid():
    assert is_national_id(national_id_from_stem("228012345"))


def test_legal_entity_id():
    assert is_legal_entity_id("10380284790")
    assert not is_legal_entity_id("10380284791")


@pytest.mark.parametrize("typed", ["09121234567", "+989121234567", "00989121234567", "989121234567",
                                   "9121234567", "۰۹۱۲ ۱۲۳ ۴۵۶۷"])
def test_mobiles_are_stored_as_09(typed):
    assert normalize_mobile(typed) == "09121234567"


@pytest.mark.parametrize("typed", ["02112345678", "0912123456", "hello", ""])
def test_not_mobiles(typed):
    assert normalize_mobile(typed) is None


def test_mod11_check_digit():
    # 1234567: weights from the right 2..7 then 2: 7*2+6*3+5*4+4*5+3*6+2*7+1*2 = 106; 106 % 11 = 7 → 4
    assert mod11_check_digit("1234567") == 4


def test_bill_and_payment_ids_round_trip():
    from core.identifiers import (
        bill_barcode,
        is_bill_id,
        is_payment_id,
        make_bill_id,
        make_payment_id,
        payment_id_amount,
    )

    bill = make_bill_id(1234567, 41, 2)  # file 1234567, company 041, electricity
    assert bill[:-1] == "12345670412" and is_bill_id(bill)
    assert not is_bill_id(bill[:-1] + str((int(bill[-1]) + 1) % 10))
    payment = make_payment_id(1_254_000, 1405, 9, bill)
    assert payment.startswith("1254509") and is_payment_id(bill, payment)
    assert payment_id_amount(payment) == 1_254_000
    assert not is_payment_id(make_bill_id(7654321, 41, 2), payment)  # C2 ties it to its bill
    tampered = "1264509" + payment[7:]
    assert not is_payment_id(bill, tampered)  # a changed amount breaks C1
    assert len(bill_barcode(bill, payment)) == 26
    with pytest.raises(ValueError):
        make_payment_id(1_254_500, 1405, 9, bill)


@given(st.integers(1, 99_999_999), st.integers(0, 999), st.integers(1, 4), st.integers(1, 9_999_999),
       st.integers(1390, 1420), st.integers(1, 12))
def test_every_generated_bill_and_payment_id_validates(file_code, company, service, thousands, year, period):
    from core.identifiers import is_bill_id, is_payment_id, make_bill_id, make_payment_id, payment_id_amount

    bill = make_bill_id(file_code, company, service)
    payment = make_payment_id(thousands * 1000, year, period, bill)
    assert is_bill_id(bill) and is_payment_id(bill, payment) and payment_id_amount(payment) == thousands * 1000
