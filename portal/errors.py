"""Error pages for people and JSON errors for the API, never leaking data."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException

from portal.tenancy import TenancyError


def wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(TenancyError, _tenancy_error)
    app.register_error_handler(OverflowError, _out_of_range)
    app.register_error_handler(DataError, _out_of_range)


def _http_error(error: HTTPException):
    if wants_json():
        code = (error.name or "error").lower().replace(" ", "_")
        return {"error": {"code": code, "message": error.description}}, error.code
    return render_template("error.html", error=error), error.code


def _tenancy_error(error: TenancyError):
    """A scope violation is reported as 'not found' so nothing about the other dealer leaks."""
    current_app.logger.error("tenancy violation on %s: %s", request.path, error)
    if wants_json():
        return {"error": {"code": "not_found", "message": "Not found"}}, 404
    return render_template("error.html", error=None), 404


def _out_of_range(error: Exception):
    """A number from the request that no database column can hold is the client's mistake."""
    current_app.logger.warning("value out of range on %s: %s", request.path, error)
    db_session = getattr(g, "db_session", None)
    if db_session is not None:
        db_session.rollback()
    return _http_error(BadRequest("A number in the request is out of range."))
