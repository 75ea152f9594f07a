"""The window speaks Chinese or English from the one shared catalogue (like the portal).

The choice is kept in the agent store, so it survives restarts of the window; without one the
PC's language decides if it is Chinese or English, and Chinese otherwise.
"""

from __future__ import annotations

import datetime as dt
import locale
import os

from flask import Flask, current_app
from flask_babel import Babel, Domain, format_datetime, format_timedelta, get_locale, gettext

from common.i18n import DEFAULT_LOCALE, LOCALES, catalogue_name, load_catalogue
from common.labels import LABELS

LOCALE_META = "ui_locale"


def system_locale() -> str:
    """zh_CN or en from the PC's language settings; Chinese when they name neither."""
    name = next(filter(None, (os.environ.get(v) for v in ("LC_ALL", "LC_MESSAGES", "LANG"))),
                None) or locale.getlocale()[0] or ""  # Windows: 'Chinese (Simplified)_China'
    name = name.lower()
    if name.startswith(("zh", "chinese")):
        return "zh_CN"
    return "en" if name.startswith(("en", "english")) else DEFAULT_LOCALE


def select_locale() -> str:
    chosen = current_app.extensions["local_agent"].store.get_meta(LOCALE_META)
    return chosen if chosen in LOCALES else current_app.config["DEFAULT_LOCALE"]


class CatalogueDomain(Domain):
    """Translations from the one shared catalogue in common/translations."""

    def get_translations(self):
        return load_catalogue(catalogue_name(get_locale()))


def init_app(app: Flask) -> None:
    app.config.setdefault("DEFAULT_LOCALE", system_locale())
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    babel = Babel(app, locale_selector=select_locale)
    babel.domain_instance = CatalogueDomain()
    app.jinja_env.globals.update(label=translated_label, is_chinese=is_chinese, locales=LOCALES)
    app.jinja_env.filters.update(label=translated_label, when=when, age=age)
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def translated_label(value) -> str:
    return gettext(LABELS[value]) if value in LABELS else str(value)


def is_chinese() -> bool:
    return catalogue_name(get_locale()) == "zh_CN"


def when(value: str | dt.datetime | None, fmt: str = "short") -> str:
    """A stored ISO timestamp in the user's language and time zone ("" when absent)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return format_datetime(value, fmt)


def age(seconds: float | None) -> str:
    """A duration such as "3 minutes" / "3分钟"."""
    if seconds is None:
        return ""
    return format_timedelta(dt.timedelta(seconds=seconds), threshold=1.2)
