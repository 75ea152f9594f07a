"""Serve the local UI on 127.0.0.1 in a background thread (werkzeug, threaded)."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

HOST = "127.0.0.1"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args) -> None:  # one line per 2-second poll would drown real logs
        pass


class LocalServer:
    """The UI on a loopback port (0: any free one); ``url`` once started."""

    def __init__(self, app: Flask, port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(HOST, port, app, threaded=True,
                                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.url = f"http://{HOST}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="agent-ui")

    def start(self) -> LocalServer:
        self._thread.start()
        logging.getLogger("sync_agent").info("Local UI at %s", self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``dealer-agent ui``)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
