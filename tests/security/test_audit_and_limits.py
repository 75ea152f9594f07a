"""The audit log page (HQ all, dealer managers their dealer) and request limits."""

from __future__ import annotations

import datetime as dt

import pytest

from common.enums import Role
from portal.limits import json_depth
from portal.models import AuditLog

EN = {"Accept-Language": "en"}


@pytest.fixture
def entries(db, make_dealer):
    """Audit entries of two dealers and one of headquarters."""
    a, b = make_dealer(), make_dealer()
    rows = [AuditLog(dealer_id=a.id, actor="alice", action="order.change", target="A-ORDER-1"),
            AuditLog(dealer_id=b.id, actor="bob", action="auth.login", target="B-LOGIN-1"),
            AuditLog(dealer_id=None, actor="hq1", action="factory_token.create",
                     target="HQ-TOKEN-1", at=dt.datetime(2024, 1, 5, 12, tzinfo=dt.UTC))]
    db.add_all(rows)
    db.commit()
    return a, b


def test_hq_sees_every_entry_and_a_dealer_manager_only_theirs(client, make_user, login, entries):
    login(make_user(Role.dealer_manager, dealer=entries[0]))
    page = client.get("/audit/", headers=EN).text
    assert "A-ORDER-1" in page and "Order changed" in page
    assert "B-LOGIN-1" not in page and "HQ-TOKEN-1" not in page
    client.post("/logout")
    login(make_user(Role.hq))
    page = client.get("/audit/", headers=EN).text
    assert all(t in page for t in ("A-ORDER-1", "B-LOGIN-1", "HQ-TOKEN-1"))


@pytest.mark.parametrize("role", [Role.dealer_staff, Role.region_manager])
def test_other_roles_may_not_read_the_audit_log(client, make_dealer, make_region, make_user,
                                                login, role):
    staff = role == Role.dealer_staff
    login(make_user(role, dealer=make_dealer() if staff else None,
                    region=None if staff else make_region()))
    assert client.get("/audit/").status_code == 403


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ("action=order", "A-ORDER-1", "B-LOGIN-1"),
    ("action=auth.login", "B-LOGIN-1", "A-ORDER-1"),
    ("user=BO", "B-LOGIN-1", "HQ-TOKEN-1"),
    ("to=2024-01-31", "HQ-TOKEN-1", "A-ORDER-1"),
    ("from=2024-02-01", "A-ORDER-1", "HQ-TOKEN-1"),
])
def test_filters(client, make_user, login, entries, query, shown, hidden):
    login(make_user(Role.hq))
    response = client.get(f"/audit/?{query}", headers={"HX-Request": "true"})
    assert shown in response.text and hidden not in response.text
    assert "<html" not in response.text


def test_the_log_pages(client, db, make_user, login, entries):
    db.add_all(AuditLog(dealer_id=entries[0].id, actor="x", action="record.corrected",
                        target=f"T-{n:03d}") for n in range(30))
    db.commit()
    login(make_user(Role.dealer_manager, dealer=entries[0]))
    first, second = client.get("/audit/").text, client.get("/audit/?page=2").text
    assert "T-029" in first and "T-000" not in first and "T-000" in second


@pytest.mark.parametrize(("text", "depth"), [(b"{}", 1), (b'{"a": [1, {"b": "]]]"}]}', 3),
                                             (b'"[[[["', 0), (b"[" * 50, 50)])
def test_json_depth_skips_strings(text, depth):
    assert json_depth(text) == depth


@pytest.mark.parametrize("path", ["/api/v1/sync/push", "/api/v1/factory/events",
                                  "/api/v1/enroll"])
def test_deeply_nested_json_is_refused_with_a_clear_error(client, make_agent, path):
    body = b'{"records": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = client.post(path, data=body, content_type="application/json",
                           headers=make_agent().headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "too_deep"
    assert "32 levels" in response.json["error"]["message"]


def test_oversized_api_request_gets_413_json(client, make_agent):
    response = client.post("/api/v1/sync/push", data=b"[" + b" " * (9 * 1024 * 1024) + b"]",
                           content_type="application/json", headers=make_agent().headers)
    assert response.status_code == 413 and response.json["error"]["code"]


def test_oversized_form_gets_413_page(client):
    response = client.post("/login", data={"username": "x", "password": "y" * (9 * 1024 * 1024)},
                           headers=EN)
    assert response.status_code == 413 and "<html" in response.text
