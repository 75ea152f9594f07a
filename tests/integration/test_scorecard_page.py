"""The dealer's own scorecard: served at /scorecard without a redirect, its figures kept per
scope and language until the next refresh, while the names and the hours since the last sync
stay live."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import Row
from sqlmodel import Session

from common.enums import Role
from common.i18n import load_catalogue
from portal.models import Agent
from portal.services import benchmark, metrics
from portal.tenancy import Scope, set_scope
from tests import metrics_records as rec
from tests.conftest import PASSWORD
from tests.metrics_records import NOW, at

EN, ZH = {"Accept-Language": "en"}, {"Accept-Language": "zh-CN"}
_PER_REQUEST = re.compile(r'(name="next" value="|name="csrf_token" value="|X-CSRFToken": ")[^"]*')


@pytest.fixture
def world(app, db, make_region, make_dealer):
    """North: dealers a and b, south: c; a sale, a contact and a survey each, aggregates made."""
    def records(n, dealer):
        sale = rec.sale(db, dealer, "2024-03-02")
        rec.contact(db, dealer, sale.vin, at("2024-03-03"))
        rec.survey(db, dealer, at("2024-03-06"), 5 if n == 0 else 3)

    return rec.two_regions(app, db, make_region, make_dealer, records)


def signed_in(client, make_user, role=Role.dealer_staff, **where):
    response = client.post("/login", data={"username": make_user(role, **where).username,
                                           "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def shown(page: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}">([^<]*)<', page)[1]


def test_own_scorecard_is_served_at_scorecard_as_at_its_address(world, make_user, client):
    signed_in(client, make_user, dealer=world["a"])
    direct = client.get("/scorecard", headers=EN)
    canonical = client.get(f"/scorecard/{world['a'].code}", headers=EN)
    assert direct.status_code == canonical.status_code == 200
    assert world["a"].name_en in direct.text
    assert _PER_REQUEST.sub("", direct.text) == _PER_REQUEST.sub("", canonical.text)


def test_scorecard_keeps_the_month_asked_for_and_links_to_the_dealers_address(
        world, make_user, client):
    signed_in(client, make_user, dealer=world["a"])
    page = client.get("/scorecard?month=2024-02", headers=EN).text
    assert '<option value="2024-02" selected>' in page
    assert f'href="/scorecard/{world["a"].code}/fix/loyalty?month=2024-02"' in page


def test_hq_at_scorecard_is_sent_to_the_benchmark(world, make_user, client):
    signed_in(client, make_user, Role.hq)
    response = client.get("/scorecard")
    assert response.status_code == 302 and response.location.endswith("/benchmark")


def test_scorecard_shows_a_refresh_made_by_another_process(world, db, engine, make_user,
                                                           client):
    signed_in(client, make_user, dealer=world["b"])
    # weights with data 65: contact 20, lifecycle 15, completeness 10 met; loyalty 0/1, sync 0
    assert shown(client.get("/scorecard", headers=EN).text, "usage-index") == "69.2"
    for day in ("2024-03-07", "2024-03-08", "2024-03-09"):
        rec.survey(db, world["b"], at(day), 5)
    db.commit()
    assert shown(client.get("/scorecard", headers=EN).text, "usage-index") == "69.2"
    rec.refresh_elsewhere(engine)  # same computation time: only the generation tells
    assert shown(client.get("/scorecard", headers=EN).text, "usage-index") == "80.8"  # loyalty 3/4


def test_hours_since_the_last_sync_and_the_names_are_live(world, db, make_user, client):
    agent = Agent(dealer_id=world["a"].id, token_hash=uuid.uuid4().hex,
                  last_success_at=NOW - dt.timedelta(hours=5))
    revoked = Agent(dealer_id=world["a"].id, token_hash=uuid.uuid4().hex, revoked_at=NOW,
                    last_success_at=NOW - dt.timedelta(hours=1))
    others = Agent(dealer_id=world["b"].id, token_hash=uuid.uuid4().hex,
                   last_success_at=NOW - dt.timedelta(hours=1))
    db.add_all([agent, revoked, others])
    db.commit()
    signed_in(client, make_user, dealer=world["a"])
    assert ">5</span><span class=\"name\">Hours since" in client.get("/scorecard", headers=EN).text
    agent.last_success_at = NOW - dt.timedelta(hours=2)
    db.add(agent)
    db.commit()
    assert ">2</span><span class=\"name\">Hours since" in client.get("/scorecard", headers=EN).text
    world["a"].name_en = "Renamed Motors"
    db.add(world["a"])
    db.commit()
    assert "Renamed Motors" in client.get("/scorecard", headers=EN).text


def test_kept_figures_follow_the_language(world, make_user, client):
    signed_in(client, make_user, dealer=world["a"])
    english, chinese, again = (client.get("/scorecard", headers=h).text for h in (EN, ZH, EN))
    label = "Post-sale contact compliance"
    assert label in english and label not in chinese
    assert load_catalogue("zh_CN").ugettext(label) in chinese
    assert _PER_REQUEST.sub("", again) == _PER_REQUEST.sub("", english)


@pytest.mark.parametrize("outsider", [
    {"role": Role.dealer_staff, "dealer": "b"}, {"role": Role.region_manager, "region": "south"}])
def test_a_kept_scorecard_never_reaches_another_scope(world, make_user, client, app, outsider):
    code = world["a"].code
    hq = signed_in(app.test_client(), make_user, Role.hq)
    assert hq.get(f"/scorecard/{code}", headers=EN).status_code == 200  # now kept for HQ
    signed_in(client, make_user, **{k: v if k == "role" else world[v] for k, v in outsider.items()})
    assert client.get(f"/scorecard/{code}", headers=EN).status_code == 404
    assert client.get(f"/scorecard/{code}/fix/loyalty", headers=EN).status_code == 404


def test_each_dealer_gets_its_own_scorecard_at_the_same_address(world, make_user, app):
    pages = {}
    for name in ("a", "b"):  # a's figures are kept before b asks
        client = signed_in(app.test_client(), make_user, dealer=world[name])
        pages[name] = client.get("/scorecard", headers=EN).text
    assert world["a"].name_en in pages["a"] and world["b"].name_en not in pages["a"]
    assert world["b"].name_en in pages["b"] and world["a"].name_en not in pages["b"]
    assert 'data-testid="benchmark-badge"' in pages["a"]
    assert 'data-testid="benchmark-badge"' not in pages["b"]


def test_scorecard_figures_are_kept_per_scope_until_a_refresh(world, db, engine):
    months = metrics.last_months(NOW.date())
    with set_scope(Session(engine), Scope.dealers([world["a"].id], "a")) as own:
        first = benchmark.scorecard(own, db, dealer_id=world["a"].id, month=months[-1],
                                    months=months)
        assert benchmark.scorecard(own, db, dealer_id=world["a"].id, month=months[-1],
                                   months=months) is first
        assert isinstance(first.row, Row) and first.row.dealer_id == world["a"].id
        hq = benchmark.scorecard(db, db, dealer_id=world["a"].id, month=months[-1], months=months)
        assert hq is not first and hq.row == first.row  # another scope: its own entry
        rec.refresh(db)
        own.rollback()  # a new transaction sees the new generation
        assert benchmark.scorecard(own, db, dealer_id=world["a"].id, month=months[-1],
                                   months=months) is not first
