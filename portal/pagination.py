"""The ?page= argument of every list, parsed once: clamped to a sane range, never an error."""

from __future__ import annotations

MAX_PAGE = 100_000


def parse_page(raw: str | None) -> int:
    """The 1-based page number in *raw*; anything unusable means the first page."""
    try:
        page = int(raw or 1)
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)
