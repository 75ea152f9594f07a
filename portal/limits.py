"""Request limits: deeply nested JSON is refused before anything parses it.

Oversized bodies are refused by MAX_CONTENT_LENGTH (413, JSON under /api/ via portal.errors).
Python's json parser recurses once per nesting level, so a body of a few kilobytes of brackets
would exhaust the stack; this guard counts the nesting first (strings skipped) and answers 400.
"""

from __future__ import annotations

import itertools
import re

from flask import Flask, current_app, request

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def init_app(app: Flask) -> None:
    app.before_request(_refuse_deep_json)
    app.register_error_handler(TooDeep, lambda error: (error.answer(), 400))


class TooDeep(Exception):
    """A JSON body nests deeper than the app's JSON_MAX_DEPTH."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit

    def answer(self) -> dict:
        return {"error": {"code": "too_deep", "message": f"The JSON body nests deeper than "
                          f"{self.limit} levels; send a flatter document."}}


def checks_depth_itself(view):
    """Mark a view that first validates its body with pydantic's JSON parser (which stops at a
    fixed depth instead of recursing without end) and calls :func:`check_json_depth` before it
    falls back to Python's json: a push's valid body is not scanned twice (~3 µs a record)."""
    view.checks_json_depth_itself = True
    return view


def check_json_depth() -> None:
    """Raise TooDeep when the request's JSON body nests deeper than the limit."""
    if request.is_json:
        limit = current_app.config.get("JSON_MAX_DEPTH", 32)
        if json_depth(request.get_data(cache=True)) > limit:
            raise TooDeep(limit)


_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [1 if b in b"[{" else -1 for b in range(256)]  # an opening bracket goes one level in


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in *data* (a JSON text, maybe malformed)."""
    if b'\\"' in data:  # a quote may be escaped: find the strings with the exact pattern
        outside = _STRING.sub(b"", data)
    else:  # every quote delimits a string: the text between string pairs is what is left
        outside = b"".join(data.split(b'"')[::2])
    steps = map(_STEP.__getitem__, outside.translate(None, _NOT_BRACKET))
    return max(0, max(itertools.accumulate(steps), default=0))  # 500-record push: ~1 µs/record


def _refuse_deep_json() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "checks_json_depth_itself", False):
        check_json_depth()
