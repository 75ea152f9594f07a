"""Static files both web UIs serve (the portal and the agent's window): base styles and htmx.

Each app mounts this folder as a blueprint named ``shared`` at /static/shared.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent
URL_PATH = "/static/shared"
