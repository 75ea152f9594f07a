"""Open the real agent window on DATA_DIR, read its status through pywebview's JS bridge, close it.

Run by tests/desktop/test_window.py in a subprocess (with a timeout), under Xvfb. Prints one
``PROBE {json}`` line with what the page shows (DOM) and what ``pywebview.api.status()``
answers, then the window's closing message.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from qtpy.QtCore import QObject, Signal

from sync_agent.ui.window import open_window

STATUS_JS = """(() => { const s = document.querySelector('[data-testid=status]');
  return s ? {state: s.dataset.state, pending: Number(s.dataset.pending),
              quarantine: Number(s.dataset.quarantine), epoch: s.dataset.epoch,
              portal: s.dataset.portal, mode: s.dataset.mode, text: s.innerText}
           : {page: location.pathname}; })()"""
API_JS = "window.pywebview.api.status().then(r => { window.__agentStatus = r; }); true"
_once = threading.Lock()


class Grabber(QObject):
    """Saves a picture of the window; lives in the GUI thread, asked from the probe thread."""

    asked = Signal(object, str)

    def __init__(self) -> None:
        super().__init__()
        self.done = threading.Event()
        self.asked.connect(self._grab)

    def _grab(self, window, path: str) -> None:
        from qtpy.QtWidgets import QApplication

        frame = window.native.frameGeometry()
        shot = QApplication.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(),
                                                       frame.height())
        shot.save(path)
        self.done.set()


GRABBER = Grabber()


def probe(window) -> None:
    if not _once.acquire(blocking=False):
        return
    dom = api = None
    for _attempt in range(80):
        dom = window.evaluate_js(STATUS_JS)
        ready = window.evaluate_js("!!(window.pywebview && window.pywebview.api"
                                   " && window.pywebview.api.status)")
        if isinstance(dom, dict) and dom.get("state") and ready:
            window.evaluate_js(API_JS)
            api = _wait_for(window, "window.__agentStatus || null")
            break
        time.sleep(0.25)
    print("PROBE " + json.dumps({"dom": dom, "api": api}, ensure_ascii=False), flush=True)
    if os.environ.get("WINDOW_SHOT"):
        GRABBER.asked.emit(window, os.environ["WINDOW_SHOT"])
        GRABBER.done.wait(10)
    window.destroy()


def _wait_for(window, expression: str):
    for _attempt in range(40):
        value = window.evaluate_js(expression)
        if value:
            return value
        time.sleep(0.25)
    return None


if __name__ == "__main__":
    print(open_window(Path(sys.argv[1]), on_loaded=probe), flush=True)
