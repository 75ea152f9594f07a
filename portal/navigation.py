"""The main navigation: each feature registers its entries with the roles that see them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from common.enums import Role

ALL_ROLES = frozenset(Role)
_MAX_KEPT = 512  # rendered navigations kept per app: roles x languages x active entries


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


def main_nav() -> Markup:
    """The links of the main navigation for this request (templates/_nav.html).

    Every page shows them, and they depend only on the role, where the app is mounted, the
    language and which entries the page lies under: each combination is rendered once per app.
    """
    role, root = current_user.role, request.script_root
    entries = _entries(role, root)
    path = request.path
    active = tuple(i for i, (url, _label) in enumerate(entries) if path.startswith(url))
    key = (role, root, str(get_locale()), active)
    rendered = current_app.extensions["navigation"]["rendered"]
    html = rendered.get(key)
    if html is None:
        if len(rendered) >= _MAX_KEPT:
            rendered.clear()
        items = [{"url": url, "label": label, "active": i in active}
                 for i, (url, label) in enumerate(entries)]
        html = rendered[key] = Markup(current_app.jinja_env.get_template("_nav.html").render(
            dashboard_url=url_for("dashboard.index"), items=items))
    return html


def _entries(role: Role, root: str) -> tuple[tuple[str, str], ...]:
    """(url, msgid) of the entries *role* sees, built once per role and mount point."""
    entries = current_app.extensions["navigation"]["entries"]
    if (role, root) not in entries:
        entries[role, root] = tuple((url_for(i.endpoint), i.label)
                                    for i in _ITEMS if role in i.roles)
    return entries[role, root]


def init_app(app: Flask) -> None:
    app.extensions["navigation"] = {"entries": {}, "rendered": {}}
    app.jinja_env.globals["main_nav"] = main_nav
