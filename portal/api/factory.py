"""The factory feed: ``POST /api/v1/factory/events`` from the factory system (DESIGN §6).

Authenticated by a factory-system bearer token that HQ manages; one event or a list
of events per request, each answered on its own (applied, duplicate,
ignored_out_of_order or rejected with a code and a message).
"""

from __future__ import annotations

from flask import Blueprint, g, request
from pydantic import BaseModel, RootModel
from sqlalchemy.exc import IntegrityError

from common.protocol import API_PREFIX, MAX_BATCH_BYTES
from portal import access, db
from portal.api import openapi
from portal.models import utcnow
from portal.services import factory as service
from portal.tenancy import Scope, set_scope

bp = Blueprint("factory_api", __name__, url_prefix=f"{API_PREFIX}/factory")
access.protect(bp, access.Access.factory)


class FactoryEvents(RootModel[service.FactoryEvent | list[service.FactoryEvent]]):
    """One event, or a list of up to 500 events."""


class FactoryEventsResponse(BaseModel):
    results: list[service.EventResult]


def _error(status: int, code: str, message: str):
    return {"error": {"code": code, "message": message}}, status


@bp.post("/events")
def events():
    """Apply factory events; each gets its own result, bad ones never block good ones."""
    session = db.session()
    set_scope(session, Scope.everything("factory-auth"))
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    token, problem = service.authenticate(session=session, raw=raw.strip()
                                          if scheme.lower() == "bearer" else "")
    if token is None:
        set_scope(session, Scope.dealers([], "unauthenticated"))
        return _error(401, problem, "Send a live factory token as 'Authorization: Bearer "
                      "<token>'; HQ issues and rotates them on the Factory feed page.")
    g.scope = Scope.everything(f"factory:{token.id}")
    set_scope(session, g.scope)
    batch = _batch()
    if isinstance(batch, tuple):
        return batch
    results = service.apply_events(session=session, events=batch, token_id=token.id)
    token.last_used_at = utcnow()
    session.add(token)
    try:
        session.commit()
    except IntegrityError:  # a concurrent request took the same VIN or event id first
        session.rollback()
        return _error(409, "conflict", "A concurrent request changed the same vehicles; "
                      "send the batch again (applied events will come back 'duplicate').")
    return FactoryEventsResponse(results=results).model_dump(mode="json")


def _batch():
    if (request.content_length or 0) > MAX_BATCH_BYTES:
        return _error(413, "too_large", f"Send at most {MAX_BATCH_BYTES} bytes per request.")
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        return [body]
    if not isinstance(body, list):
        return _error(400, "bad_request", "Send JSON: one event object or a list of events.")
    if len(body) > service.MAX_EVENTS:
        return _error(413, "too_large", f"Send at most {service.MAX_EVENTS} events per request.")
    return body


openapi.add_operation(
    "/factory/events", "post", summary="Report production events of ordered vehicles",
    description=(
        "The factory system reports stage changes, VINs and ETA ranges. A vehicle is addressed "
        "by `order_number` + `line` + `unit` (the 1-based index of the vehicle within the "
        "line; defaults to 1). Idempotent on `event_id`: a resent event is answered "
        "`duplicate`. A stage earlier than the vehicle's current one is kept in its history "
        "but does not move it back (`ignored_out_of_order`). The VIN is required from `body` "
        "on and validated (check digit). `eta_from`/`eta_to` with `reason` add to the ETA "
        "history. Each event is answered on its own; a rejected event (code + message) never "
        "blocks the others of the batch."),
    request=FactoryEvents, response=FactoryEventsResponse, auth="factoryToken",
    errors={400: "The body is not JSON, an event object or a list of events.",
            401: "Missing, unknown (`unauthorized`) or revoked (`token_revoked`) token.",
            409: "A concurrent request touched the same vehicles; resend.",
            413: "More than 500 events or 4 MiB."},
    tags=("factory",),
)
