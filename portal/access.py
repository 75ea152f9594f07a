"""Who may call each route: one classification per endpoint, enforced before every request.

Every endpoint of the portal is classified as one of :class:`Access` — set on the view with a
decorator (``@access.dealer_scoped(Role.dealer_manager, Role.hq)``) or for a whole blueprint
with :func:`protect` (a view's own marker wins). The check here enforces the *role* part of the
class; *which dealer's rows* a request sees is the tenancy layer's job (portal/tenancy.py), so a
dealer-scoped view never filters by hand. An endpoint without a classification is refused
(fail closed) and tests/security/test_isolation_matrix.py fails the build for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from flask import Blueprint, Flask, abort, current_app, request
from flask_login import current_user

from common.enums import Role
from portal.security import login_manager


class Access(StrEnum):
    public = "public"  # no login (login page, static files, the OpenAPI document, enrolment)
    user = "user"  # any logged-in user; shows no dealer's data
    dealer = "dealer"  # a dealer's data, filtered to the caller's scope by the tenancy layer
    region = "region"  # aggregates across dealers: region managers (their region) and HQ
    hq = "hq"  # headquarters only
    agent = "agent"  # a sync agent's bearer token, bound to one dealer
    factory = "factory"  # the factory system's bearer token


TOKEN_KINDS = frozenset({Access.agent, Access.factory})
DEFAULT_ROLES: dict[Access, frozenset[Role]] = {
    Access.user: frozenset(Role),
    Access.dealer: frozenset(Role),
    Access.region: frozenset({Role.region_manager, Role.hq}),
    Access.hq: frozenset({Role.hq}),
}


@dataclass(frozen=True)
class Rule:
    access: Access
    roles: frozenset[Role] = frozenset()

    @classmethod
    def of(cls, access: Access, roles: Iterable[Role] = ()) -> Rule:
        roles = frozenset(roles) or DEFAULT_ROLES.get(access, frozenset())
        if not roles <= DEFAULT_ROLES.get(access, frozenset()):
            raise ValueError(f"{access} routes cannot be opened to {sorted(roles)}")
        return cls(access, roles)


def _marker(access: Access, roles: Iterable[Role] = ()) -> Callable:
    rule = Rule.of(access, roles)

    def mark(view: Callable) -> Callable:
        view.access_rule = rule  # functools.wraps copies it onto outer decorators
        return view

    return mark


public = _marker(Access.public)
any_user = _marker(Access.user)
hq_only = _marker(Access.hq)
agent_token = _marker(Access.agent)
factory_token = _marker(Access.factory)


def dealer_scoped(*roles: Role) -> Callable:
    """Mark a view that shows or changes dealer data; *roles* narrows who may call it."""
    return _marker(Access.dealer, roles)


def region_scoped(*roles: Role) -> Callable:
    """Mark a view of aggregates across a region's dealers (region managers and HQ)."""
    return _marker(Access.region, roles)


def protect(blueprint: Blueprint, access: Access, *roles: Role) -> None:
    """Classify every view of *blueprint* that carries no marker of its own."""
    blueprint.access_rule = Rule.of(access, roles)


def rule_for(app: Flask, endpoint: str) -> Rule | None:
    """The classification of *endpoint*: the view's own, else its blueprint's, else None."""
    if endpoint == "static":
        return Rule(Access.public)
    rule = getattr(app.view_functions.get(endpoint), "access_rule", None)
    blueprint = app.blueprints.get(endpoint.rpartition(".")[0])
    return rule or getattr(blueprint, "access_rule", None)


def init_app(app: Flask) -> None:
    app.before_request(_enforce)


def _enforce():
    if request.endpoint is None:  # no route matched: the 404/405 handlers answer
        return None
    rule = rule_for(current_app, request.endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s has no access classification", request.endpoint)
        abort(403)
    if rule.access == Access.public:
        return None
    if rule.access in TOKEN_KINDS:
        return None if request.headers.get("Authorization") else _token_missing()
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in rule.roles:
        abort(403)
    return None


def _token_missing():
    return {"error": {"code": "unauthorized",
                      "message": "Send the token as 'Authorization: Bearer <token>'."}}, 401
