"""Persian text: normalisation for storage and search, Persian digits for display."""

import re

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ZWNJ = "\u200c"

_TO_ASCII_DIGITS = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN_DIGITS = str.maketrans("0123456789", PERSIAN_DIGITS)
_LETTERS = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh
        "ى": "ی",  # alef maksura
        "ك": "ک",  # Arabic kaf
        "ة": "ه",  # teh marbuta
        "ۀ": "هٔ",
        "\u0640": None,  # tatweel (kashida)
        "\u200d": None,  # zero-width joiner
        "\u200e": None,  # left-to-right mark
        "\u200f": None,  # right-to-left mark
        "\ufeff": None,  # byte-order mark
    }
)
# Arabic diacritics (harakat) carry no meaning for search and are rarely typed consistently.
_DIACRITICS = re.compile("[\u064b-\u065f\u0670]")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
_ZWNJ_RUNS = re.compile(f"(?:\\s*{ZWNJ}\\s*)+")


def to_ascii_digits(value: str) -> str:
    return value.translate(_TO_ASCII_DIGITS)


def to_persian_digits(value) -> str:
    return str(value).translate(_TO_PERSIAN_DIGITS)


def normalize_persian(value: str | None) -> str | None:
    """The form in which Persian text is stored and searched.

    Arabic yeh/kaf become Persian, digits become ASCII, diacritics and invisible marks go,
    runs of spaces collapse, and a ZWNJ keeps its place but never beside a space.
    """
    if value is None:
        return None
    text = to_ascii_digits(str(value)).translate(_LETTERS)
    text = _DIACRITICS.sub("", text)
    text = _ZWNJ_RUNS.sub(ZWNJ, text)
    text = _SPACES.sub(" ", text).strip()
    return text.strip(ZWNJ)


def digits_only(value: str | None) -> str:
    """ASCII digits of a typed number, whatever digits and separators were used."""
    if value is None:
        return ""
    value = str(value)
    if value.isascii() and value.isdigit():  # the usual case, without the regular expression (a billing run's
        return value  # payment IDs ask for it five times a bill)
    return re.sub(r"\D", "", to_ascii_digits(value))
