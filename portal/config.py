"""Configuration read from the environment, with safe embedded defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def from_environment() -> dict:
    """Return the portal's settings; every one can be overridden by an environment variable."""
    data_dir = Path(os.environ.get("DEALER_PORTAL_DATA", Path.cwd() / "var"))
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{data_dir / 'portal.db'}"),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "DATA_DIR": str(data_dir),
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_MAX_FAILURES_PER_IP": int(os.environ.get("LOGIN_MAX_FAILURES_PER_IP", "20")),
        "LOGIN_WINDOW_MINUTES": int(os.environ.get("LOGIN_WINDOW_MINUTES", "15")),
        "JSON_MAX_DEPTH": 32,
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "PAGE_SIZE": 25,
        # periodic jobs run inside served processes only (portal.server turns them on)
        "RUN_JOBS": os.environ.get("DEALER_PORTAL_JOBS", "0") == "1",
    }


def ensure_secret_key(settings: dict) -> None:
    """Fill in SECRET_KEY from the data directory when neither environment nor caller set it."""
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = _secret_key(Path(settings["DATA_DIR"]))


def _secret_key(data_dir: Path) -> str:
    """Keep a random key in the data directory so sessions survive restarts."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
