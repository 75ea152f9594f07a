"""The machine API under /api/v1: token-authenticated JSON, no cookies, no CSRF."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Flask, g, request

from common.protocol import API_PREFIX, ErrorCode
from portal import access, db
from portal.api import openapi
from portal.security import csrf
from portal.services import agents
from portal.services.sync import REVOKED_MESSAGE, SyncError
from portal.tenancy import Scope, set_scope

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
access.protect(bp, access.Access.public)


def init_app(app: Flask) -> None:
    """Register the API blueprints and answer SyncError as the JSON error of the contract."""
    from portal.api import credentials, factory, sync

    app.register_error_handler(SyncError, error_response)
    register_api_blueprint(app, bp)
    register_api_blueprint(app, sync.bp)
    register_api_blueprint(app, factory.bp)
    register_api_blueprint(app, credentials.bp)


def register_api_blueprint(app: Flask, blueprint: Blueprint) -> None:
    """Register a token-authenticated blueprint: no cookies are trusted, so no CSRF check."""
    csrf.exempt(blueprint)
    app.register_blueprint(blueprint)


def error_response(error: SyncError):
    return {"error": {"code": str(error.code), "message": error.message}}, error.status


def agent_required(view: Callable) -> Callable:
    """Authenticate the bearer token and scope the request's session to the agent's dealer."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        agent = _authenticate()
        g.scope = Scope.dealers([agent.dealer_id], label=f"agent:{agent.id}")
        set_scope(db.session(), g.scope)
        g.agent = agent
        return view(*args, **kwargs)

    return wrapped


def _authenticate():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SyncError(401, ErrorCode.unauthorized,
                        "Send the agent token as 'Authorization: Bearer <token>'.")
    # The token decides the dealer, so finding it is the one lookup made across all dealers.
    session = set_scope(db.session(), Scope.everything("agent-auth"))
    agent = agents.agent_for_token(session=session, token=token.strip())
    set_scope(session, Scope.dealers([], "unauthenticated"))
    if agent is None:
        raise SyncError(401, ErrorCode.unauthorized, "Unknown agent token; enrol the agent.")
    if agent.revoked_at is not None:
        raise SyncError(401, ErrorCode.token_revoked, REVOKED_MESSAGE)
    return agent


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return openapi.document()
