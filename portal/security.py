"""Login sessions, CSRF protection and response headers."""

from __future__ import annotations

from flask import Flask, Response
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from common.i18n import N_

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = N_("Please log in to see this page.")
login_manager.session_protection = "strong"


def init_app(app: Flask) -> None:
    # the remember-me cookie (if ever used) gets the same flags as the session cookie
    app.config["REMEMBER_COOKIE_SECURE"] = app.config.get("SESSION_COOKIE_SECURE", False)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.vary.add("HX-Request")
    return response
