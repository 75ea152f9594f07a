"""The agent's local web UI, shown in the desktop window (pywebview) or any browser.

Built by :func:`create_app` around a :class:`~sync_agent.ui.context.LocalAgent`; served on
127.0.0.1 only. Imported only by ``dealer-agent window`` and ``dealer-agent ui``, so the
headless agent never loads Flask.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, Flask

from common.static import STATIC_DIR, URL_PATH
from sync_agent.ui import i18n, security
from sync_agent.ui.context import LocalAgent
from sync_agent.ui.views import layout_context

AGENT_DIR = Path(__file__).resolve().parent.parent


def create_app(agent: LocalAgent, config: dict | None = None) -> Flask:
    """Build the local UI: configuration, language, protection, then one blueprint per area."""
    app = Flask(__name__, template_folder=str(AGENT_DIR / "templates"),
                static_folder=str(AGENT_DIR / "static"))
    app.config.update(SECRET_KEY=secrets.token_hex(32), MAX_CONTENT_LENGTH=50 * 1024 * 1024,
                      SESSION_COOKIE_SAMESITE="Strict", PAGE_SIZE=25)
    app.config.update(config or {})
    app.extensions["local_agent"] = agent
    i18n.init_app(app)
    security.init_app(app)
    _register_blueprints(app)
    app.context_processor(layout_context)
    return app


def _register_blueprints(app: Flask) -> None:
    from sync_agent.ui.views import imports, offline, quarantine, records, status

    app.register_blueprint(Blueprint("shared", __name__, static_folder=STATIC_DIR,
                                     static_url_path=URL_PATH))  # base styles, htmx
    for module in (status, records, imports, quarantine, offline):
        app.register_blueprint(module.bp)
