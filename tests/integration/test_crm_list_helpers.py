"""The CRM lists' per-page helpers give what the per-row template code they replace gives."""

from __future__ import annotations

import uuid

import pytest
from flask import render_template_string, url_for
from markupsafe import Markup

from portal.crm import crm_label, crm_labels, per_record, row_url
from tests.conftest import make_test_app

AWKWARD = ["13900000001", "139 00/02?x=1&y=2", "+86%20", "a#b", "电话", "<script>", ".."]


@pytest.fixture
def app(sqlite_url, tmp_path):
    return make_test_app(sqlite_url, tmp_path)


def test_row_url_builds_what_url_for_builds(app):
    with app.test_request_context("/"):
        customer_url = row_url("customers.customer", "phone")
        for phone in AWKWARD:
            assert customer_url(phone) == url_for("customers.customer", phone=phone)


@pytest.mark.parametrize("value", ["immediate", "within_1_year", "<b>odd</b>", None])
def test_crm_labels_match_crm_label(app, value):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert crm_labels("timeframe")[value] == crm_label("timeframe", value)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_texts_are_what_underscore_gives(app, language):
    page = "{{ _('Follow up now') }}|{{ texts()['Follow up now'] }}|{{ _('Next') }}"
    with app.test_request_context("/", headers={"Accept-Language": language}):
        original, memo, other = render_template_string(page).split("|")
    assert original == memo != other


def test_per_record_stamps_each_rows_id_and_escapes_values(app):
    source = ('{% macro form(record, note) %}<a href="/r/{{ record.record_id }}" '
              'title="{{ note }}">{{ record.record_id }}</a>{% endmacro %}')
    note = "<script>alert(1)</script>"
    with app.test_request_context("/"):
        macro = app.jinja_env.from_string(source).module.form
        form = per_record(macro, note=note)
        for record_id in (uuid.uuid4(), uuid.uuid4()):
            stamped = form(record_id)
            assert isinstance(stamped, Markup)
            assert stamped == macro(record=_Record(record_id), note=note)
            assert "&lt;script&gt;" in stamped and "<script>" not in stamped


class _Record:
    def __init__(self, record_id: uuid.UUID) -> None:
        self.record_id = record_id
