"""The isolation matrix (DESIGN §11): every endpoint is classified, and no other dealer's or
region's user or agent reaches dealer A's data through any of them.

A new route fails here until it is classified in the product (portal/access.py markers) and,
when its URL has parameters, until URLS below says how to build it from the arranged data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable

import pytest

from portal import access, create_app
from portal.access import Access
from portal.services.metrics import METRIC_BY_KEY
from tests.conftest import make_test_app
from tests.integration.sync_factories import push_body
from tests.security.conftest import World

OUTSIDERS = ("b_staff", "b_manager", "rb_manager")
OWNER_SIDE = ("a_manager", "a_staff", "ra_manager", "hq")


def _a(**keys: str) -> Callable[[World], dict]:
    """URL values taken from dealer A's sample values: _a(number="order") -> {number: a[order]}."""
    return lambda w: {param: w.a[key] for param, key in keys.items()}


def _fixed(**values) -> Callable[[World], dict]:
    return lambda _w: values


URLS: dict[str, Callable[[World], dict]] = {
    "agents.detail": _a(agent_id="agent"), "agents.revoke": _a(agent_id="agent"),
    "auth.set_locale": _fixed(code="en"),
    "catalogue.model": _fixed(model_id=1), "catalogue.add_rule": _fixed(model_id=1),
    "catalogue.save_item": _fixed(model_id=1, kind="trim"),
    "catalogue.toggle_rule": _fixed(rule_id=1),
    "corrections.annotate": lambda w: {"kind": "sale", "record_id": w.a["sale_id"]},
    "corrections.correct": lambda w: {"kind": "sale", "record_id": w.a["sale_id"]},
    "corrections.resolve": _a(correction_id="correction"),
    "customers.by_sale": _a(record_id="sale_id"), "customers.customer": _a(phone="phone"),
    "customers.vehicle": _a(vin="vin"),
    "exports.show": _a(export_id="export"), "exports.download": _a(export_id="export"),
    "factory_admin.revoke": _a(token_id="factory_token"),
    "factory_admin.rotate": _a(token_id="factory_token"),
    "orders.detail": _a(number="order"), "orders.cancel_order": _a(number="order"),
    "orders.change": lambda w: {"number": w.a["order"], "line_no": 1},
    "orders.vehicle": lambda w: {"number": w.a["order"], "line_no": 1, "unit": 1},
    "orders.cancel_vehicle": lambda w: {"number": w.a["order"], "line_no": 1, "unit": 1},
    "rollups.pipeline": _fixed(stage="paint"),
    "scorecard.dealer": _a(code="dealer"),
    "scorecard.fix": lambda w: {"code": w.a["dealer"], "metric": next(iter(METRIC_BY_KEY))},
    "static": _fixed(filename="css/app.css"),
    "shared.static": _fixed(filename="css/base.css"),
    "users.detail": _a(user_id="user"), "users.change_role": _a(user_id="user"),
    "users.set_active": _a(user_id="user"),
}


def _url_map():
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "DATA_DIR": data_dir})
    return app.url_map


RULES = sorted(_url_map().iter_rules(), key=lambda r: r.endpoint)
ENDPOINTS = sorted({r.endpoint for r in RULES})


def _requests(world: World, endpoint: str) -> list[tuple[str, str, bool]]:
    """(method, url, has URL parameters) of every rule of *endpoint*."""
    found = []
    for rule in world.app.url_map.iter_rules(endpoint):
        values = URLS[endpoint](world) if rule.arguments else {}
        with world.app.test_request_context():
            url = world.app.url_for(endpoint, **values)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        found += [(m, url, bool(rule.arguments)) for m in methods]
    return found


def _call(world: World, caller: str, method: str, url: str, **kwargs):
    response = world.client(caller).open(url, method=method, **kwargs)
    response.get_data()
    response.close()  # a streamed file (static, downloads) is closed at once
    return response


def _leaks(world: World, response, url: str) -> list[str]:
    """The owner's values in *response*, except those the caller sent in the URL itself."""
    text = response.get_data(as_text=True)
    return [value for value in world.secrets if value in text and value not in url]


def test_every_endpoint_is_classified_and_has_sample_values(world):
    unclassified = [e for e in ENDPOINTS if access.rule_for(world.app, e) is None]
    without_urls = sorted({r.endpoint for r in RULES if r.arguments} - set(URLS))
    assert unclassified == [], "classify these endpoints with portal/access.py markers"
    assert without_urls == [], "say in URLS how to build these endpoints' URLs"


def test_an_unclassified_endpoint_is_refused(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path)
    app.add_url_rule("/unmarked", "unmarked", lambda: "secret")
    response = app.test_client().get("/unmarked")
    assert response.status_code == 403 and b"secret" not in response.data


def _check_public(world, rule, method, url, _params):
    assert _call(world, "anonymous", method, url).status_code < 500


def _check_login_needed(world, method, url):
    response = _call(world, "anonymous", method, url)
    assert response.status_code == 302 and "/login" in response.location, (method, url)
    agent = _call(world, "anonymous", method, url, headers=world.agents["B"].headers)
    assert agent.status_code == 302, "an agent token is no login"


def _check_owner_sees(world, rule, method, url):
    if method == "GET":
        owner = next(c for c in OWNER_SIDE if world.users[c].role in rule.roles)
        response = world.client(owner).get(url, follow_redirects=True)
        response.close()
        assert response.status_code == 200, (owner, url, response.status_code)


def _check_user(world, rule, method, url, _params):
    _check_login_needed(world, method, url)
    _check_owner_sees(world, rule, method, url)


def _check_dealer(world, rule, method, url, params):
    _check_login_needed(world, method, url)
    for caller in OUTSIDERS:
        response = _call(world, caller, method, url)
        allowed = (403, 404) if params else (200, 302, 303, 400, 403)
        assert response.status_code in allowed, (caller, method, url, response.status_code)
        assert _leaks(world, response, url) == [], (caller, method, url)
    _check_owner_sees(world, rule, method, url)


def _check_region(world, rule, method, url, params):
    _check_login_needed(world, method, url)
    for caller in ("b_staff", "b_manager"):
        assert _call(world, caller, method, url).status_code == 403, (caller, url)
    response = _call(world, "rb_manager", method, url)
    assert response.status_code in (200, 404) and _leaks(world, response, url) == [], url
    _check_owner_sees(world, rule, method, url)


def _check_hq(world, rule, method, url, _params):
    _check_login_needed(world, method, url)
    for caller in ("a_staff", "a_manager", "ra_manager", "b_manager", "rb_manager"):
        assert _call(world, caller, method, url).status_code == 403, (caller, url)
    _check_owner_sees(world, rule, method, url)


def _check_agent(world, rule, method, url, _params):
    anonymous = _call(world, "anonymous", method, url)
    assert anonymous.status_code == 401 and anonymous.json["error"]["code"], url
    body = push_body(world.agents["A"], []) if method == "POST" else None
    response = _call(world, "anonymous", method, url, json=body,
                     headers=world.agents["B"].headers)
    expected = 403 if url.endswith("/push") else 200
    assert response.status_code == expected and _leaks(world, response, url) == [], url
    if url.endswith("/sync/token"):  # B rotated its own token: keep using the new one
        world.agents["B"].token = response.json["token"]


def _check_factory(world, rule, method, url, _params):
    for headers in ({}, world.agents["A"].headers, {"Authorization": "Bearer fct_guess"}):
        response = _call(world, "anonymous", method, url, json=[], headers=headers)
        assert response.status_code == 401 and response.json["error"]["code"], headers


CHECKS = {Access.public: _check_public, Access.user: _check_user, Access.dealer: _check_dealer,
          Access.region: _check_region, Access.hq: _check_hq, Access.agent: _check_agent,
          Access.factory: _check_factory}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_other_dealers_and_regions_get_nothing(world, endpoint):
    rule = access.rule_for(world.app, endpoint)
    assert rule is not None, f"classify {endpoint} in portal/access.py"
    for method, url, params in _requests(world, endpoint):
        CHECKS[rule.access](world, rule, method, url, params)
