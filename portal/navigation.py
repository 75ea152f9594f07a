"""The main navigation: each feature registers its entries with the roles that see them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, url_for
from flask_login import current_user

from common.enums import Role

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str  # msgid, translated in the template
    roles: frozenset[Role]
    order: int


_ITEMS: list[NavItem] = []


def register(endpoint: str, label: str, roles=ALL_ROLES, order: int = 50) -> None:
    """Add a navigation entry once (features call this at import)."""
    if all(item.endpoint != endpoint for item in _ITEMS):
        _ITEMS.append(NavItem(endpoint, label, frozenset(roles), order))
        _ITEMS.sort(key=lambda i: i.order)


def items_for_current_user() -> list[dict]:
    user = current_user._get_current_object()  # one proxy lookup, not one per entry
    if not user.is_authenticated:
        return []
    return [{"url": url_for(i.endpoint), "label": i.label} for i in _ITEMS if user.role in i.roles]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = items_for_current_user
