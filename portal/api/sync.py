"""Agent endpoints of the sync protocol: enrol, push, epoch, pull, verify (DESIGN §5)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from common.protocol import (
    API_PREFIX,
    MAX_BATCH_BYTES,
    MAX_CURSOR,
    EnrollRequest,
    EnrollResponse,
    ErrorCode,
    PullResponse,
    PushRequest,
    PushResponse,
    describe_validation_error,
)
from common.schemas import RECORD_ADAPTER
from portal import access, db, limits, sqlite_writes
from portal.api import agent_required, openapi
from portal.models import Dealer
from portal.services import agents
from portal.services import sync as service
from portal.services.sync import MAX_PULL_LIMIT, SyncError
from portal.tenancy import Scope, set_scope

bp = Blueprint("sync_api", __name__, url_prefix=API_PREFIX)
access.protect(bp, access.Access.agent)


@bp.post("/enroll")
@access.public
def enroll():
    """Exchange a one-time enrolment code for an agent identity and token."""
    body = _model(EnrollRequest, request.get_json(silent=True))
    if not service.storable(body.model_dump()):
        raise SyncError(400, ErrorCode.bad_request, "Text holds a NUL character or a lone "
                        "surrogate; send plain text.")
    session = set_scope(db.session(), Scope.everything("enroll"))
    try:
        enrolled = agents.enroll(session=session, code=body.code, agent_name=body.agent_name,
                                 agent_version=body.agent_version)
    except agents.EnrollmentError as error:
        raise SyncError(400, ErrorCode.enrollment_invalid, str(error)) from error
    session.commit()
    answer = EnrollResponse(agent_id=enrolled.agent.id, token=enrolled.token,
                            dealer_code=enrolled.dealer_code, epoch=enrolled.agent.epoch)
    return answer.model_dump(mode="json"), 201


@bp.post("/sync/push")
@limits.checks_depth_itself
@agent_required
def push():
    """Apply a batch of records in one transaction and answer per record."""
    session, payload = db.session(), None
    try:
        if (request.content_length or 0) > MAX_BATCH_BYTES:
            raise SyncError(413, ErrorCode.too_large,
                            f"A batch is at most {MAX_BATCH_BYTES} bytes; send fewer records.")
        payload = service.parse_push_fast(request.get_data()) if request.is_json else None
        if payload is None:  # a body in error: answered in detail, after Python's json parses it
            limits.check_json_depth()
            payload = service.parse_push(request.get_json(silent=True))
        if payload.agent_id != g.agent.id:
            raise SyncError(403, ErrorCode.forbidden, "agent_id is not the agent of this token.")
        answer = _apply(session, payload)
    except SyncError as error:
        session.rollback()
        service.record_heartbeat(session=session, agent=g.agent, request=payload,
                                 now=service.utcnow(), success=False, error=str(error.code))
        session.commit()
        raise
    return current_app.response_class(answer, mimetype="application/json")


def _apply(session, payload: PushRequest) -> str:
    """Apply and commit; a unique-key race with a concurrent request is retried once.

    Records are validated and converted before the write gate (SQLite's queue of pushing
    writers, see :mod:`portal.sqlite_writes`) is taken, and it is held until the commit.
    """
    dealer = session.get(Dealer, g.agent.dealer_id)
    check_text = service.may_hold_unstorable_text(request.get_data())
    for attempt in (1, 2):
        now = service.utcnow()
        items = service.prepare(agent=g.agent, dealer=dealer, request=payload, now=now,
                                dialect=db.engine().dialect, check_text=check_text)
        try:
            with sqlite_writes.gate(db.engine()):
                service.apply(session=session, agent=g.agent, request=payload, items=items,
                              now=now)
                session.commit()
            return service.answer_json(items, now)
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@bp.post("/sync/epoch")
@agent_required
def epoch():
    """Start a new epoch after the agent's store went backwards."""
    session = db.session()
    number = service.new_epoch(session=session, agent=g.agent)
    session.commit()
    return {"epoch": number}


@bp.get("/sync/pull")
@agent_required
def pull():
    """Changes for this agent's dealer since the cursor."""
    cursor = _int_arg("cursor", 0, 0, MAX_CURSOR)
    limit = _int_arg("limit", 200, 1, MAX_PULL_LIMIT)
    return service.pull(session=db.session(), cursor=cursor, limit=limit).model_dump(mode="json")


@bp.get("/sync/verify")
@agent_required
def verify():
    """Per-kind counts and checksums of what the portal holds from this agent."""
    return service.verify(session=db.session(), agent=g.agent)


def _model(model: type[BaseModel], body):
    if not isinstance(body, dict):
        raise SyncError(400, ErrorCode.bad_request, "The body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        message = describe_validation_error(error)[1]
        raise SyncError(400, ErrorCode.bad_request, f"Malformed request: {message}") from error


def _int_arg(name: str, default: int, low: int, high: int | None) -> int:
    raw = request.args.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise SyncError(400, ErrorCode.bad_request, f"{name} must be an integer {bounds}.")
    return value


# --- the OpenAPI description ---------------------------------------------------------------

_AUTH_ERRORS = {401: "Missing or unknown token (unauthorized) or revoked agent (token_revoked)."}
_VERIFY_SCHEMA = {
    "type": "object", "required": ["kinds"],
    "properties": {"kinds": {"type": "object", "additionalProperties": {
        "type": "object", "required": ["count", "checksum"],
        "properties": {"count": {"type": "integer"},
                       "checksum": {"type": "string", "description": "sha256 hex"}}}}},
}
openapi.add_schema("Record", RECORD_ADAPTER)
openapi.add_operation(
    "/enroll", "post", summary="Enrol an agent with a one-time code", request=EnrollRequest,
    response=EnrollResponse, status=201, auth=None,
    errors={400: "Malformed body (bad_request) or unknown, used or expired code "
                 "(enrollment_invalid)."},
)
openapi.add_operation(
    "/sync/push", "post", summary="Push a batch of records", request=PushRequest,
    response=PushResponse,
    description="Applied in one transaction; `results` answer each record in input order: "
                "applied, duplicate, stale or rejected (code, message, field). Each `record` "
                "is validated against the `Record` schema; one that fails is rejected alone.",
    errors={**_AUTH_ERRORS, 400: "Malformed envelope (bad_request).",
            403: "agent_id is not the token's agent (forbidden).",
            409: "Epoch over (epoch_conflict) or the sequence went backwards "
                 "(sequence_regressed); nothing was applied.",
            413: "Batch too large (too_large).",
            422: "Schema version not accepted (unsupported_schema): update the agent."},
)
openapi.add_operation(
    "/sync/epoch", "post", summary="Start a new epoch (sequence restarts at 1)",
    response={"type": "object", "required": ["epoch"],
              "properties": {"epoch": {"type": "integer"}}},
    errors=_AUTH_ERRORS,
)
openapi.add_operation(
    "/sync/pull", "get", summary="Changes for this dealer since the cursor",
    response=PullResponse, errors={**_AUTH_ERRORS, 400: "Bad cursor or limit (bad_request)."},
    parameters=[
        {"name": "cursor", "in": "query",
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_CURSOR}},
        {"name": "limit", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PULL_LIMIT, "default": 200}},
    ],
)
openapi.add_operation(
    "/sync/verify", "get", summary="Counts and checksums of this agent's records, per kind",
    response=_VERIFY_SCHEMA, errors=_AUTH_ERRORS,
)
