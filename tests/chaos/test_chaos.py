"""DESIGN §11 chaos: agents saving through a fault proxy, killed mid-push, the portal restarted.

Ten ``dealer-agent run`` processes of two dealers sync through the fault proxy to the portal
served by gunicorn; a writer process saves records into every agent's store all along. Four
agents are SIGKILLed while the portal's answer to their push is held back by the proxy (the
batch is applied, not yet acknowledged) and restarted; the portal is SIGKILLed while it works
on a request and started again on the same database. At the
end every record saved at any agent must be at the portal exactly once at its latest version,
every saved version must have exactly one receipt, every outbox must be empty and
``dealer-agent verify`` must pass for every agent. See tests/chaos/scenario.py.
"""

from __future__ import annotations

import os

import pytest

from tests.chaos.scenario import Config, Scenario, fresh_database

# about 2 min per backend; the bound allows for drain_timeout
pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_saved_record_reaches_the_portal_exactly_once(backend, tmp_path):
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if backend == "postgresql" and not admin_url:
        pytest.skip("TEST_DATABASE_URL is not set")
    config = Config(agents=10, dealers=2, chaos_seconds=40, kills=4, portal_restarts=1, seed=11)
    with fresh_database(tmp_path, admin_url if backend == "postgresql" else None,
                        f"dp_chaos_{os.getpid()}") as url:
        figures = Scenario(config, tmp_path, url, say=print).run()
    print(figures.report())
    assert figures.problems() == [], figures.report()
    assert figures.kills_mid_push >= 3 and len(set(figures.killed_agents)) >= 3
    assert figures.portal_restarts == figures.portal_kills_mid_request == 1
    assert figures.saved_versions > 1000 and figures.proxy.push_outcomes["duplicate"] > 0
    assert len(figures.proxy.faults) == 6  # every kind of fault happened
