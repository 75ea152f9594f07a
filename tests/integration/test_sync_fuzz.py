"""Fuzzed push bodies get a 4xx JSON error or per-record answers, never a 500."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.sync_factories import BUILDERS, push_body

SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats() | st.text()
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
FIELDS = ["record_id", "version", "dealer_code", "updated_at", "kind", "deal_number", "customer",
          "vehicle", "price", "parts", "name", "phone", "at", "score"]
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(kind=st.sampled_from(sorted(BUILDERS)), field=st.sampled_from(FIELDS), value=JSON)
def test_a_mangled_record_is_answered_alone(client, make_agent, kind, field, value):
    enrolled = make_agent()
    good, bad = BUILDERS[kind](enrolled.dealer.code), BUILDERS[kind](enrolled.dealer.code)
    bad[field] = value
    response = client.post("/api/v1/sync/push", json=push_body(enrolled, [bad, good]),
                           headers=enrolled.headers)
    assert response.status_code == 200, response.text
    assert response.json["results"][1]["outcome"] == "applied"


@FUZZ
@given(path=st.sampled_from(["agent_id", "epoch", "schema_version", "heartbeat", "records"]),
       value=JSON)
def test_a_mangled_envelope_is_a_clear_4xx(client, make_agent, path, value):
    enrolled = make_agent()
    body = push_body(enrolled, [BUILDERS["lead"](enrolled.dealer.code)]) | {path: value}
    response = client.post("/api/v1/sync/push", data=json.dumps(body),
                           content_type="application/json", headers=enrolled.headers)
    assert response.status_code in (200, 400, 403, 409, 413, 422), response.text
    if response.status_code != 200:
        assert response.json["error"]["code"] and response.json["error"]["message"]


def test_nul_and_lone_surrogates_are_rejected_per_record(client, make_agent):
    enrolled = make_agent()
    code = enrolled.dealer.code
    records = [BUILDERS["lead"](code, name="a\x00b"), BUILDERS["lead"](code, name="x\ud800"),
               BUILDERS["lead"](code, name="赵敏 😀")]
    response = client.post("/api/v1/sync/push", data=json.dumps(push_body(enrolled, records)),
                           content_type="application/json", headers=enrolled.headers)
    assert [r["outcome"] for r in response.json["results"]] == ["rejected", "rejected", "applied"]
    assert response.json["results"][0]["code"] == "invalid_character"
