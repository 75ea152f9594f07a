"""Fixtures of the integration suites, each feature's factories imported from its own module."""

import threading

import pytest
from werkzeug.serving import make_server

from tests.integration.sync_factories import make_agent, push  # noqa: F401


@pytest.fixture
def live_portal(app):
    """Serve the test app over real HTTP on loopback in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
