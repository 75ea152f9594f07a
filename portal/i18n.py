"""Chinese and English, chosen by the user or from the browser (Flask-Babel)."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel, Domain, format_date, format_datetime, get_locale, gettext

from common.i18n import DEFAULT_LOCALE, LOCALES, catalogue_name, load_catalogue
from common.labels import LABELS


def select_locale() -> str:
    """The user's explicit choice wins; otherwise the browser's preference; otherwise Chinese."""
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES, default=DEFAULT_LOCALE)


class CatalogueDomain(Domain):
    """Translations from the one shared catalogue in common/translations."""

    def get_translations(self):
        return load_catalogue(catalogue_name(get_locale()))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    babel = Babel(app, locale_selector=select_locale)
    babel.domain_instance = CatalogueDomain()
    app.jinja_env.globals.update(
        label=translated_label, locales=LOCALES, is_chinese=is_chinese, localized=localized
    )
    app.jinja_env.filters.update(
        label=translated_label, format_date=format_date, format_datetime=format_datetime
    )
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def translated_label(value) -> str:
    """Translate the display label of a domain value (stage, status, role ...)."""
    return gettext(LABELS[value]) if value in LABELS else str(value)


def is_chinese() -> bool:
    return catalogue_name(get_locale()) == "zh_CN"


def localized(zh: str, en: str) -> str:
    """Pick the Chinese or English variant of a stored name for the current locale."""
    return zh if is_chinese() else en
