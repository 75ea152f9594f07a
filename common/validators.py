"""Field validators both sides apply: VIN check digit, phone numbers, postcodes.

Each raises :class:`FieldError` with a machine-readable code and a message a
salesperson can act on; the message is a msgid with ``%(name)s`` parameters so
each side can show it in the user's language.
"""

from __future__ import annotations

import operator
import re
import unicodedata

from common.i18n import N_

# ISO 3779 / GB 16735: letters transliterate to digits; I, O and Q are not used.
_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_CHARS = re.compile(r"[0-9A-HJ-NPR-Z]{17}")
_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}", re.ASCII)
_POSTCODE = re.compile(r"\d{6}", re.ASCII)


class FieldError(ValueError):
    """A value that fails validation, with a reason a person can act on."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        self.code = code
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)

    def render(self, gettext=lambda s: s) -> str:
        """Return the message in the language of *gettext*."""
        text = gettext(self.message)
        return text % self.params if self.params else text


def _halfwidth(value: str) -> str:
    """Turn full-width digits and letters, as Chinese input methods type them, into ASCII."""
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def vin_check_digit(vin: str) -> str:
    """Return the check digit (``0``-``9`` or ``X``) that position 9 of *vin* must hold."""
    remainder = sum(map(operator.mul, map(_TRANSLITERATION.__getitem__, vin), _WEIGHTS)) % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(value: str) -> str:
    """Return the VIN normalised to upper case, or raise FieldError saying what is wrong."""
    vin = _halfwidth(value).strip().upper()
    if len(vin) != 17:
        raise FieldError(
            "vin_length", N_("A VIN has 17 characters; this one has %(count)d."), count=len(vin)
        )
    bad = None if _VIN_CHARS.fullmatch(vin) else next(
        (n, c) for n, c in enumerate(vin, start=1) if c not in _TRANSLITERATION)
    if bad:
        raise FieldError(
            "vin_character",
            N_("Character %(position)d of the VIN, '%(char)s', is not allowed "
               "(VINs never use I, O or Q)."),
            position=bad[0],
            char=bad[1],
        )
    expected = vin_check_digit(vin)
    if vin[8] != expected:
        raise FieldError(
            "vin_check_digit",
            N_("The VIN's check digit (9th character) is '%(found)s' but should be "
               "'%(expected)s': a character was probably mistyped."),
            found=vin[8],
            expected=expected,
        )
    return vin


def validate_phone(value: str) -> str:
    """Return a Chinese mobile (digits only) or landline number without +86, or raise FieldError."""
    if _MOBILE.fullmatch(value) or (_LANDLINE.fullmatch(value) and value[1] != "0"):
        return value  # already as stored, as most numbers arrive: nothing to rewrite
    return _rewrite_phone(value)


def _rewrite_phone(value: str) -> str:
    phone = re.sub(r"[\s()]", "", _halfwidth(value))
    phone = re.sub(r"^(\+|00)?86-?(?=1)", "", phone)
    phone = re.sub(r"^(\+|00)86-?(?=[2-9])", "0", phone)  # +86 21 ... is the landline 021 ...
    if _MOBILE.fullmatch(phone.replace("-", "")):
        return phone.replace("-", "")  # 138-1234-5678 is written with dashes too
    if _LANDLINE.fullmatch(phone):
        return phone
    raise FieldError(
        "phone",
        N_("'%(value)s' is not a phone number: use 11 digits for a mobile (13812345678) "
           "or area code and number for a landline (021-12345678)."),
        value=value,
    )


def validate_postcode(value: str) -> str:
    """Return a six-digit Chinese postcode, or raise FieldError."""
    postcode = _halfwidth(value).strip()
    if _POSTCODE.fullmatch(postcode):
        return postcode
    raise FieldError(
        "postcode", N_("'%(value)s' is not a postcode: it has six digits."), value=value
    )
