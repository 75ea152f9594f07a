"""The dealer sync agent: a local store with an outbox, pushed to the portal when it can."""

from __future__ import annotations

__version__ = "0.1.0"
