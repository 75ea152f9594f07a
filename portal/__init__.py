"""The dealer portal: a Flask application built by :func:`create_app`."""

from __future__ import annotations

from flask import Blueprint, Flask

from common.static import STATIC_DIR, URL_PATH
from portal import access, config, db, errors, i18n, jobs, limits, navigation, security


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal: configuration, infrastructure, then one blueprint per feature."""
    app = Flask(__name__)
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    config.ensure_secret_key(app.config)

    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    access.init_app(app)
    limits.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    _register_blueprints(app)
    jobs.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from portal import (
        account,
        agents,
        api,
        audit,
        auth,
        catalogue,
        crm,
        dashboard,
        exports,
        factory_admin,
        orders,
        rollups,
        scorecard,
        users,
    )

    app.register_blueprint(_shared_static())
    for feature in (auth, dashboard, account, users, agents, catalogue, orders, factory_admin,
                    scorecard, rollups, exports, audit):
        app.register_blueprint(feature.bp)
    api.init_app(app)
    crm.init_app(app)


def _shared_static() -> Blueprint:
    """Base styles and htmx, shared with the agent's window (common/static)."""
    bp = Blueprint("shared", __name__, static_folder=STATIC_DIR, static_url_path=URL_PATH)
    access.protect(bp, access.Access.public)
    return bp
