"""Query arguments out of any sane range get a page or a 400, never a 500."""

from __future__ import annotations

import pytest

from common.enums import Role

ARGUMENTS = ["page=-3", f"page={10**30}", "page=x", f"model={10**30}", f"brand={10**30}"]


def list_pages(app) -> list[str]:
    """Every GET page of the portal that takes no URL parameter (API and static aside)."""
    return sorted(
        rule.rule for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments
        and not rule.rule.startswith(("/api/", "/static")) and rule.rule != "/logout"
    )


@pytest.mark.parametrize("query", ARGUMENTS)
def test_out_of_range_arguments_never_fail_the_server(app, client, make_user, login, query):
    login(make_user(Role.hq))
    failures = {}
    for url in list_pages(app):
        status = client.get(f"{url}?{query}").status_code
        if status >= 500:
            failures[url] = status
    assert failures == {}
