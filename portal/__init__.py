"""The dealer portal: a Flask application built by :func:`create_app`."""

from __future__ import annotations

from flask import Flask

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
    from portal import agents, api, auth, catalogue, dashboard, factory_admin, orders, users

    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(agents.bp)
    app.register_blueprint(catalogue.bp)
    app.register_blueprint(orders.bp)
    app.register_blueprint(factory_admin.bp)
    from portal import exports, rollups, scorecard

    app.register_blueprint(scorecard.bp)
    app.register_blueprint(rollups.bp)
    app.register_blueprint(exports.bp)
    api.init_app(app)
    from portal import crm

    crm.init_app(app)
    from portal import account, audit

    app.register_blueprint(account.bp)
    app.register_blueprint(audit.bp)
