"""Iranian identifiers validated on input."""

import pytest

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
