"""Only this PC may use the UI: loopback Host names (against DNS rebinding) and CSRF tokens."""

from __future__ import annotations

from flask import Flask, abort, request
from flask_wtf.csrf import CSRFProtect

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def init_app(app: Flask) -> None:
    CSRFProtect(app)
    app.before_request(_local_host_only)


def _local_host_only():
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    if host not in LOCAL_HOSTS:
        abort(403, "The dealer agent's window answers on 127.0.0.1 only.")
