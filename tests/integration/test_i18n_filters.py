"""The portal's faster translation and date helpers give what Flask-Babel gives."""

from __future__ import annotations

import datetime as dt

import flask_babel
import pytest
from flask import render_template_string

from common.i18n import load_catalogue
from portal import i18n
from tests.conftest import make_test_app

MOMENTS = [dt.datetime(2024, 3, 1, 15, 59, tzinfo=dt.UTC),  # 23:59 in Shanghai
           dt.datetime(2024, 3, 1, 16, 0, tzinfo=dt.UTC),  # the next day there
           dt.datetime(2024, 3, 1, 16, 0),  # naive: taken as UTC
           dt.date(2024, 12, 31)]


@pytest.fixture
def app(sqlite_url, tmp_path):
    return make_test_app(sqlite_url, tmp_path)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_format_date_matches_flask_babel(app, language):
    with app.test_request_context("/", headers={"Accept-Language": language}):
        for moment in MOMENTS * 2:  # the second round is answered from the cache
            assert i18n.format_date(moment) == flask_babel.format_date(moment)


def test_template_strings_follow_the_locale_in_force(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        page = "{{ _('Dashboard') }} {{ 'paint'|label }}"
        english = render_template_string(page)
        with flask_babel.force_locale("zh_CN"):
            chinese = render_template_string(page)
    catalogue = load_catalogue("zh_CN")
    assert english == "Dashboard Paint"
    assert chinese == f"{catalogue.ugettext('Dashboard')} {catalogue.ugettext('Paint')}"
    assert "Dashboard" not in chinese and "Paint" not in chinese
