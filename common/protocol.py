"""The sync protocol contract under /api/v1 (DESIGN §5): envelopes, outcomes, errors."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.validators import FieldError

API_PREFIX = "/api/v1"
SCHEMA_VERSION = 1
ACCEPTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION, SCHEMA_VERSION - 1})
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_SEQ = 2**31 - 1  # sequences, epochs and versions are 32-bit integers in the portal database
MAX_CURSOR = 2**63 - 1  # pull cursors are change ids; the databases hold 64-bit integers at most


class Outcome(StrEnum):
    applied = "applied"
    duplicate = "duplicate"
    stale = "stale"
    rejected = "rejected"


class ErrorCode(StrEnum):
    """Request-level errors, each answered as JSON ``{"error": {"code", "message"}}``."""

    bad_request = "bad_request"
    unauthorized = "unauthorized"
    token_revoked = "token_revoked"
    unsupported_schema = "unsupported_schema"
    epoch_conflict = "epoch_conflict"
    too_large = "too_large"
    not_found = "not_found"
    enrollment_invalid = "enrollment_invalid"
    forbidden = "forbidden"
    sequence_regressed = "sequence_regressed"


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Heartbeat(_Envelope):
    agent_version: Annotated[str, Field(max_length=40)]
    pending_count: Annotated[int, Field(ge=0, le=MAX_SEQ)]
    oldest_pending_age_s: Annotated[float, Field(ge=0)] | None = None
    quarantine_count: Annotated[int, Field(ge=0, le=MAX_SEQ)] = 0


class PushItem(_Envelope):
    """One outbox entry; ``record`` is validated per item so one bad record rejects alone."""

    seq: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    record: dict[str, Any]


class PushRequest(_Envelope):
    agent_id: UUID
    epoch: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    schema_version: int
    heartbeat: Heartbeat
    records: Annotated[list[PushItem], Field(max_length=MAX_BATCH_RECORDS)]


class ItemResult(_Envelope):
    seq: int
    record_id: str | None
    outcome: Outcome
    code: str | None = None
    message: str | None = None
    field: str | None = None


class PushResponse(_Envelope):
    results: list[ItemResult]
    server_time: dt.datetime


class PullResponse(_Envelope):
    changes: list[dict[str, Any]]
    cursor: int
    more: bool


class EnrollRequest(_Envelope):
    code: Annotated[str, Field(min_length=4, max_length=64)]
    agent_name: Annotated[str, Field(max_length=100)] = ""
    agent_version: Annotated[str, Field(max_length=40)] = ""


class EnrollResponse(_Envelope):
    agent_id: UUID
    token: str
    dealer_code: str
    epoch: int


def describe_validation_error(error: ValidationError) -> tuple[str, str, str]:
    """Return (code, English message, dotted field) for the first problem of *error*."""
    first = error.errors(include_url=False)[0]
    loc = [str(p) for p in first["loc"]]
    if loc and loc[0] in {"sale", "repair_order", "lead", "contact", "complaint", "survey"}:
        loc = loc[1:]  # drop the discriminator tag pydantic puts first
    field = ".".join(loc)
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, FieldError):
        return cause.code, str(cause), field
    tag_error = first["type"] in {"union_tag_invalid", "union_tag_not_found"}
    code = "invalid_kind" if tag_error else f"invalid_{first['type']}"
    message = f"{field}: {first['msg']}" if field else first["msg"]
    return code, message, field


def checksum(pairs: Iterable[tuple[str, int]]) -> str:
    """Order-independent digest of (record_id, version) pairs, for `dealer-agent verify`."""
    digest = hashlib.sha256()
    for record_id, version in sorted((str(r), int(v)) for r, v in pairs):
        digest.update(f"{record_id}:{version}\n".encode())
    return digest.hexdigest()
