"""VIN check digits, phone numbers and postcodes (common/validators.py).

Every VIN below was checked by hand against ISO 3779 (transliteration A=1 … Z=9,
weights 8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2, remainder of 11, 10 → X). The
Chinese-market VINs (SAIC-GM, WMI ``LSG``) were constructed with that rule.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from common import validators
from common.validators import (
    FieldError,
    validate_phone,
    validate_postcode,
    validate_vin,
    vin_check_digit,
)

VALID_VINS = [
    "1M8GDM9AXKP042788",  # check digit X (sum 351, remainder 10)
    "1HGCM82633A004352",  # Honda Accord, check digit 3
    "LSGJA52U8CH123456",  # SAIC-GM (Buick), constructed: sum 316, remainder 8
    "LSGPC52U86F012345",  # SAIC-GM, constructed: check digit 8
]
# (vin, the check digit it should carry)
WRONG_CHECK_DIGIT = [
    ("5YJSA1E26HF000337", "7"),  # often quoted as valid, but the sum is 304 → 7
    ("1M8GDM9A1KP042788", "X"),
    ("1HGCM82643A004352", "3"),
    ("LSGJA52U0CH123456", "8"),  # SAIC-GM with a wrong check digit
    ("LSGPC52U06F012345", "8"),
]


@pytest.mark.parametrize("vin", VALID_VINS)
def test_valid_vins_pass(vin):
    assert validate_vin(vin) == vin
    assert vin_check_digit(vin) == vin[8]


@pytest.mark.parametrize(("vin", "expected"), WRONG_CHECK_DIGIT)
def test_wrong_check_digit_names_the_right_one(vin, expected):
    with pytest.raises(FieldError) as info:
        validate_vin(vin)
    assert info.value.code == "vin_check_digit"
    assert info.value.params == {"found": vin[8], "expected": expected}
    assert f"should be '{expected}'" in str(info.value)


@pytest.mark.parametrize(
    "vin", ["1hgcm82633a004352", "  lsgja52u8ch123456 ", "1m8gdm9axkp042788"]
)
def test_vin_is_normalised_to_upper_case(vin):
    assert validate_vin(vin) == vin.strip().upper()


@pytest.mark.parametrize("vin", ["", "1HGCM82633A00435", "1HGCM82633A0043521", "LSG"])
def test_vin_length_is_checked_first(vin):
    with pytest.raises(FieldError) as info:
        validate_vin(vin)
    assert info.value.code == "vin_length"
    assert info.value.params == {"count": len(vin)}


@pytest.mark.parametrize(
    ("vin", "position", "char"),
    [("1HGCM82633A00435I", 17, "I"), ("LSGJA52U8CH12345O", 17, "O"),
     ("1QGCM82633A004352", 2, "Q"), ("1HGCM8263-A004352", 10, "-")],
)
def test_forbidden_characters_are_located(vin, position, char):
    with pytest.raises(FieldError) as info:
        validate_vin(vin)
    assert info.value.code == "vin_character"
    assert info.value.params == {"position": position, "char": char}


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0086 19912345678", "19912345678"),
        ("021-12345678", "021-12345678"),
        ("(021) 12345678", "02112345678"),
        ("0755-1234567", "0755-1234567"),
        ("+86 21 12345678", "02112345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width, as input methods type it
    ],
)
def test_phone_numbers_are_normalised(raw, normalised):
    assert validate_phone(raw) == normalised


def _phone_or_error(check, raw):
    try:
        return check(raw)
    except FieldError as error:
        return error.code, error.params


@given(st.text(alphabet="0123456789+-() 8６", max_size=16))
@example("13812345678")
@example("021-12345678")
@example("008613812345")  # a landline by its pattern, a +86 prefix to the rewriting
@example("0086-21-1234567")
def test_the_fast_path_for_stored_phone_numbers_answers_as_the_rewriting_does(raw):
    """Numbers already in their stored form skip the rewriting: the answer is the same."""
    assert _phone_or_error(validate_phone, raw) == _phone_or_error(validators._rewrite_phone, raw)


@pytest.mark.parametrize(
    "raw", ["", "12812345678", "1381234567", "138123456789", "abc", "+1 415 555 0100", "21-1234"]
)
def test_bad_phone_numbers_are_refused_with_an_example(raw):
    with pytest.raises(FieldError) as info:
        validate_phone(raw)
    assert info.value.code == "phone"
    assert "13812345678" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("200000", "200000"), (" 100101 ", "100101"), ("２０００００", "200000")],
)
def test_postcodes_have_six_digits(raw, normalised):
    assert validate_postcode(raw) == normalised


@pytest.mark.parametrize("raw", ["", "20000", "2000000", "20000A", "٢٠٠٠٠٠"])
def test_bad_postcodes_are_refused(raw):
    with pytest.raises(FieldError) as info:
        validate_postcode(raw)
    assert info.value.code == "postcode"


def test_field_error_renders_through_a_translating_function():
    msgid = "'%(value)s' is not a postcode: it has six digits."
    catalogue = {msgid: "“%(value)s”不是邮政编码：应为六位数字。"}
    with pytest.raises(FieldError) as info:
        validate_postcode("12")
    rendered = info.value.render(lambda text: catalogue.get(text, text))
    assert rendered == "“12”不是邮政编码：应为六位数字。"
    assert info.value.render() == "'12' is not a postcode: it has six digits."
