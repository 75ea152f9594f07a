"""Mark strings for translation without depending on a web framework.

Both the portal and the agent's local UI translate these msgids at display time
through their own Flask-Babel instance, from the one catalogue in
``common/translations``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel import Locale
from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark *message* for extraction; translation happens where it is shown."""
    return message


def catalogue_name(locale: Locale | None) -> str:
    """Map a Babel locale to our catalogue: Babel calls zh_CN 'zh_Hans_CN'."""
    if locale is None:
        return DEFAULT_LOCALE
    return "zh_CN" if locale.language == "zh" else "en"


@cache
def load_catalogue(name: str) -> NullTranslations:
    """Return the compiled translations of catalogue *name* (English is the msgids)."""
    if name == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [name])
