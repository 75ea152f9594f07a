"""``dealer-agent window``: the local UI in a desktop window (pywebview; Qt on Linux).

The window runs the UI server in a thread of its own process. Closing it stops the server
and, if the window was the one syncing, the scheduler — and says what happens to syncing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sync_agent.ui import create_app
from sync_agent.ui.context import SERVICE, WINDOW, LocalAgent
from sync_agent.ui.server import LocalServer

TITLE = "Dealer agent · 经销商同步代理"


def closing_message(mode: str) -> str:
    if mode == SERVICE:
        return ("Window closed. The background service keeps syncing this data directory.")
    if mode == WINDOW:
        return ("Window closed: syncing stopped with it. To keep syncing without the window, "
                "run `dealer-agent run` (e.g. as a service started at login).")
    return "Window closed."


class Bridge:
    """Methods the page's JavaScript can call as ``window.pywebview.api.<name>()``."""

    def __init__(self, agent: LocalAgent) -> None:
        self._agent = agent

    def status(self) -> dict:
        return {**self._agent.coordinator.status().as_dict(), "mode": self._agent.mode}


def open_window(data_dir: Path, *, interval: float = 30.0,
                on_loaded: Callable | None = None) -> str:
    """Open the window and block until it is closed; returns what happened to syncing."""
    import webview  # the `desktop` extra

    agent = LocalAgent(data_dir, interval=interval).start()
    server = LocalServer(create_app(agent)).start()
    try:
        window = webview.create_window(TITLE, server.url, js_api=Bridge(agent), width=1180,
                                       height=820, min_size=(720, 520))
        if on_loaded is not None:
            window.events.loaded += lambda: on_loaded(window)
        webview.start(gui=os.environ.get("PYWEBVIEW_GUI") or None, private_mode=True)
    finally:
        server.stop()
        mode = agent.mode
        agent.close()
    return closing_message(mode)
