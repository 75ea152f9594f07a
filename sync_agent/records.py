"""Validate records for the local store and derive their identities (business and import keys)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from common.enums import RecordKind
from common.schemas import BUSINESS_KEYS, RECORD_MODELS, RecordHeader, parse_record
from common.validators import FieldError

HEADER_FIELDS = frozenset({"record_id", "dealer_code", "kind", "version", "updated_at"})
KINDS = tuple(k.value for k in RecordKind)

# Kinds without a business key get a stable identity on import from these fields, so
# importing the same export twice updates instead of duplicating.
IMPORT_KEYS: dict[str, tuple[str, ...]] = {
    "lead": ("name", "phone"),
    "contact": ("customer_ref", "channel", "at"),
    "complaint": ("customer_ref", "received_at", "category"),
    "survey": ("customer_ref", "about", "at"),
}
_IMPORT_NAMESPACE = uuid.UUID("6f1d3c52-8f3e-4b0e-9a57-1d2f8e0c4a11")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record: where, a machine code, and a message a person can act on."""

    field: str
    code: str
    message: str
    msgid: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


class RecordInvalid(ValueError):
    """A record that fails validation; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(_line(p) for p in problems))


def _line(problem: Problem) -> str:
    return f"{problem.field}: {problem.message}" if problem.field else problem.message


def describe_problems(error: ValidationError) -> list[Problem]:
    """Turn every error of *error* into a Problem (the same codes as the portal's rejections)."""
    return [_describe(item) for item in error.errors(include_url=False)]


def _describe(item: dict[str, Any]) -> Problem:
    loc = [str(p) for p in item["loc"]]
    if loc and loc[0] in KINDS:
        loc = loc[1:]  # drop the discriminator tag pydantic puts first
    where = ".".join(loc)
    cause = item.get("ctx", {}).get("error")
    if isinstance(cause, FieldError):
        return Problem(where, cause.code, str(cause), cause.message, dict(cause.params))
    if item["type"] == "union_tag_invalid":
        message = f"Unknown record kind; use one of: {', '.join(KINDS)}."
        return Problem("kind", "invalid_kind", message)
    return Problem(where, f"invalid_{item['type']}", item["msg"])


def validate(kind: str, fields: dict[str, Any], *, record_id: str | None, dealer_code: str,
             version: int = 1, updated_at: dt.datetime | None = None) -> RecordHeader:
    """Return the validated wire model of *fields* with the given header, or raise RecordInvalid."""
    if kind not in RECORD_MODELS:
        message = f"Unknown record kind '{kind}'; use one of: {', '.join(KINDS)}."
        raise RecordInvalid([Problem("kind", "invalid_kind", message)])
    body = {k: v for k, v in fields.items() if k not in HEADER_FIELDS}
    header = {"record_id": record_id or str(uuid.uuid4()), "dealer_code": dealer_code,
              "kind": kind, "version": version,
              "updated_at": updated_at or dt.datetime.now(dt.UTC)}
    try:
        return parse_record({**body, **header})
    except ValidationError as error:
        raise RecordInvalid(describe_problems(error)) from None


def business_key(model: RecordHeader) -> str | None:
    """Return the record's business key (deal or RO number, unique per dealer) if it has one."""
    name = BUSINESS_KEYS.get(model.kind)
    return getattr(model, name) if name else None


def business_key_field(kind: str) -> str | None:
    return BUSINESS_KEYS.get(kind)


def content_of(model: RecordHeader) -> dict[str, Any]:
    """The record's JSON fields without the header (what an edit can change)."""
    return model.model_dump(mode="json", exclude=set(HEADER_FIELDS) - {"kind"})


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def import_record_id(model: RecordHeader) -> str | None:
    """A stable record_id for an imported record of a kind without a business key."""
    names = IMPORT_KEYS.get(model.kind)
    if not names:
        return None
    data = model.model_dump(mode="json")
    key = "|".join([model.dealer_code, model.kind, *(str(data[n]) for n in names)])
    return str(uuid.uuid5(_IMPORT_NAMESPACE, key))


def set_dotted(fields: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``customer.name``-style *dotted* keys in the nested *fields* of a record."""
    *parents, last = dotted.split(".")
    node = fields
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value
