"""The configurator's rule engine: requires, excludes, not offered, explanations, alternatives."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.services.catalogue import (
    Item,
    ModelSpec,
    Name,
    Rule,
    Selection,
    check_configuration,
    option_hints,
)


def _item(kind, code, en, price=0):
    return Item(kind, code, Name(f"{en}(中)", en), Decimal(price))


SPEC = ModelSpec(
    model_id=1, code="GL8", name=Name("GL8", "GL8"), brand=Name("别克", "Buick"),
    trims=(_item("trim", "24C", "2.4L Comfort", 239800), _item("trim", "24L", "2.4L", 269800)),
    colours=(_item("colour", "black", "Black"), _item("colour", "pearl", "Pearl White", 3000)),
    options=(_item("option", "leather", "Leather seats", 8000),
             _item("option", "nav", "Navigation", 9800),
             _item("option", "dvd", "Rear-seat DVD", 7500)),
    rules=(Rule("requires", "option:leather", "trim:24L"),
           Rule("excludes", "option:nav", "option:dvd"),
           Rule("not_offered", "colour:pearl", "trim:24C")),
)


LEATHER_ON_COMFORT = Selection("24C", "black", frozenset({"leather"}))


def _codes(selection):
    return [p.code for p in check_configuration(SPEC, selection).problems]


def test_valid_configuration_is_priced():
    verdict = check_configuration(SPEC, Selection("24L", "pearl", frozenset({"leather", "nav"})))
    assert verdict.ok
    assert verdict.price == Decimal(269800 + 3000 + 8000 + 9800)


@pytest.mark.parametrize(("selection", "code"), [
    (Selection("24C", "black", frozenset({"leather"})), "requires_trim"),
    (Selection("24L", "black", frozenset({"nav", "dvd"})), "excludes"),
    (Selection("24C", "pearl"), "not_offered"),
    (Selection("24L", "black", frozenset({"roofbox"})), "unknown_item"),
    (Selection(None, "black"), "trim_required"),
    (Selection("24L", None), "colour_required"),
])
def test_each_rule_is_reported(selection, code):
    assert _codes(selection) == [code]


def test_requires_is_explained_in_both_languages():
    problem = check_configuration(SPEC, LEATHER_ON_COMFORT).problems[0]
    assert problem.render() == "The option Leather seats requires the 2.4L trim."
    assert "Leather seats(中)" in problem.render(chinese=True)


def test_requires_offers_the_trim_or_dropping_the_option():
    problem = check_configuration(SPEC, LEATHER_ON_COMFORT).problems[0]
    assert [(a.action, a.code) for a in problem.alternatives] == [
        ("set_trim", "24L"), ("remove_option", "leather")]


def test_not_offered_colour_offers_other_trims_and_colours():
    problem = check_configuration(SPEC, Selection("24C", "pearl")).problems[0]
    assert ("set_trim", "24L") in [(a.action, a.code) for a in problem.alternatives]
    assert ("set_colour", "black") in [(a.action, a.code) for a in problem.alternatives]
    assert "not offered on the 2.4L Comfort trim" in problem.render()


def test_excludes_offers_removing_either_option():
    selection = Selection("24L", "black", frozenset({"nav", "dvd"}))
    problem = check_configuration(SPEC, selection).problems[0]
    assert {a.code for a in problem.alternatives} == {"nav", "dvd"}


def test_hint_warns_before_picking_an_incompatible_option():
    hints = option_hints(SPEC, SPEC.options[2], Selection("24L", "black", frozenset({"nav"})))
    assert [h.code for h in hints] == ["excludes"]
