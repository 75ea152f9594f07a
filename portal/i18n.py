"""Chinese and English, chosen by the user or from the browser (Flask-Babel)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property, lru_cache

import flask
from babel import Locale, dates, support
from flask import Flask, has_request_context, request, session
from flask_babel import Babel, Domain, format_datetime, get_locale, to_user_timezone
from jinja2 import pass_context
from markupsafe import Markup
from wtforms.i18n import messages_path

from common.i18n import DEFAULT_LOCALE, LOCALES, catalogue_name, load_catalogue
from common.labels import LABELS

# parsed once: Flask-Babel parses a locale name on every request, a third of a millisecond
_PARSED = {code: Locale.parse(code) for code in LOCALES}


def select_locale() -> Locale:
    """The user's explicit choice wins; otherwise the browser's preference; otherwise Chinese."""
    chosen = session.get("locale")
    if chosen not in LOCALES:
        chosen = request.accept_languages.best_match(LOCALES, default=DEFAULT_LOCALE)
    return _PARSED[chosen]


class Request(flask.Request):
    @cached_property
    def wtforms_translations(self) -> support.Translations:
        """WTForms' own messages in the request's language, where Flask-WTF looks for them:
        parsed once per language, not from disk on every request that builds a form (0.16 ms)."""
        return _wtforms_catalogue(str(get_locale()))


@lru_cache(maxsize=len(LOCALES))
def _wtforms_catalogue(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class CatalogueDomain(Domain):
    """Translations from the one shared catalogue in common/translations."""

    def get_translations(self):
        return load_catalogue(catalogue_name(get_locale()))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    babel = Babel(app, locale_selector=select_locale)
    babel.domain_instance = CatalogueDomain()
    app.request_class = Request
    app.jinja_env.globals.update(
        label=translated_label, locales=LOCALES, is_chinese=is_chinese, localized=localized
    )
    app.jinja_env.filters.update(
        label=translated_label, format_date=format_date, format_datetime=format_datetime
    )
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    # the request's catalogue straight away, not through Flask-Babel's domain lookup
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # the templates' _() (a page calls it a hundred times): Jinja's newstyle gettext without
    # its two indirections, and in a rendered page's own templates bound to the request's
    # catalogue once per render; macros imported without context look the catalogue up
    app.jinja_env.globals["_"] = _translate
    app.context_processor(_request_translator)


def _catalogue():
    return load_catalogue(catalogue_name(get_locale()))


def _request_translator() -> dict:
    return {"_": _translator(_catalogue())} if has_request_context() else {}


@pass_context
def _translate(context, message: str, **variables) -> str:
    return _translator(_catalogue())(context, message, **variables)


@lru_cache(maxsize=len(LOCALES))
def _translator(catalogue):
    """Jinja's newstyle _() (jinja2.ext._make_new_gettext) over one catalogue."""

    @pass_context
    def translate(context, message: str, **variables) -> str:
        text = catalogue.ugettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables  # always a format string, as in Jinja: '%%' is '%'

    return translate


def format_date(value: dt.date | dt.datetime, format: str = "medium") -> str:
    """Flask-Babel's format_date (a datetime shows its day in the user's time zone), with the
    text of each day remembered: Babel takes ~20 µs to format one and lists show dozens."""
    if isinstance(value, dt.datetime):
        value = to_user_timezone(value).date()
    return _day_text(value, format, get_locale())


@lru_cache(maxsize=4096)
def _day_text(day: dt.date, format: str, locale: Locale) -> str:
    return dates.format_date(day, format, locale=locale)


def translated_label(value) -> str:
    """Translate the display label of a domain value (stage, status, role ...)."""
    return _catalogue().ugettext(LABELS[value]) if value in LABELS else str(value)


def is_chinese() -> bool:
    return catalogue_name(get_locale()) == "zh_CN"


def localized(zh: str, en: str) -> str:
    """Pick the Chinese or English variant of a stored name for the current locale."""
    return zh if is_chinese() else en
