"""Every UI string and domain label has a Chinese translation; the compiled catalogue is current.

The msgids are extracted exactly as common/translations/update.sh does (same
mapping file and keywords): add the Chinese of any new msgid to messages.po and recompile.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from common import enums
from common.labels import LABELS

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_DIR = ROOT / "common" / "translations"
MESSAGES = CATALOGUE_DIR / "zh_CN" / "LC_MESSAGES"
SOURCES = ("portal", "sync_agent", "common")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None,
            "lazy_gettext": None, "_l": None}


@cache
def extracted_msgids() -> dict[str, str]:
    """Map each msgid found in the sources to the first file that uses it."""
    with open(CATALOGUE_DIR / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, str] = {}
    for source in SOURCES:
        for path, _line, msgid, _comments, _context in extract_from_dir(
            ROOT / source, method_map, options_map, keywords=KEYWORDS
        ):
            for single in msgid if isinstance(msgid, tuple) else (msgid,):
                found.setdefault(single, f"{source}/{path}")
    return found


@cache
def po_catalogue():
    with open(MESSAGES / "messages.po", "rb") as po:
        return read_po(po)


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return message is not None and not message.fuzzy and all(s.strip() for s in strings)


def test_every_msgid_has_a_chinese_translation():
    catalogue = po_catalogue()
    missing = sorted(
        f"{where}: {msgid!r}" for msgid, where in extracted_msgids().items()
        if catalogue.get(msgid) is None or not _translated(catalogue.get(msgid))
    )
    assert not missing, "untranslated msgids:\n" + "\n".join(missing)


def test_compiled_catalogue_matches_the_po_file():
    with open(MESSAGES / "messages.mo", "rb") as mo:
        compiled = {m.id: m.string for m in read_mo(mo) if m.id}
    source = {m.id: m.string for m in po_catalogue() if m.id and _translated(m)}
    assert compiled == source, "messages.mo is stale: run pybabel compile"


def test_extraction_finds_the_known_strings():
    msgids = extracted_msgids()
    assert {"Log in", "Sales this month", "Dealer manager"} <= msgids.keys()


@pytest.mark.parametrize(
    "enum", [v for v in vars(enums).values() if isinstance(v, type) and issubclass(v, StrEnum)
             and v is not StrEnum and v.__module__ == enums.__name__],
    ids=lambda e: e.__name__,
)
def test_every_enum_value_has_a_label(enum):
    missing = [value for value in enum if value not in LABELS]
    assert not missing, f"add labels for {missing} to common/labels.py"


def test_values_spelt_alike_keep_their_own_label():
    assert LABELS[enums.RecordKind.sale] == "Sale"
    assert LABELS[enums.SurveyAbout.sale] == "About a sale"
    assert LABELS["sale"] == "Sale"  # a plain stored string finds the first definition
