"""An agent rotates its own token: ``POST /api/v1/sync/token`` answers a new one, the old dies."""

from __future__ import annotations

from flask import Blueprint, g

from common.protocol import API_PREFIX
from portal import access, db
from portal.api import agent_required, openapi
from portal.services import security

bp = Blueprint("token_api", __name__, url_prefix=API_PREFIX)
access.protect(bp, access.Access.agent)


@bp.post("/sync/token")
@agent_required
def rotate():
    """Issue a new token for the calling agent; the token used for this call stops working."""
    session = db.session()
    token = security.rotate_agent_token(session=session, agent=g.agent)
    session.commit()
    return {"token": token, "agent_id": str(g.agent.id)}


openapi.add_operation(
    "/sync/token", "post", summary="Rotate this agent's token",
    description="Answers a new token; from then on only the new token is accepted. Store it "
                "before using it: a lost answer means enrolling the agent again.",
    response={"type": "object", "required": ["token", "agent_id"],
              "properties": {"token": {"type": "string"}, "agent_id": {"type": "string"}}},
    errors={401: "Missing or unknown token (unauthorized) or revoked agent (token_revoked)."},
)
