"""The OpenAPI 3.1 document of /api/v1, built from a registry each API module adds to.

A feature documents an endpoint with one :func:`add_operation` call next to its view; request
and response bodies are pydantic models whose JSON schemas become ``components.schemas``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from common.protocol import API_PREFIX, SCHEMA_VERSION

REF = "#/components/schemas/{model}"

_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {}
_MODELS: dict[str, type[BaseModel] | TypeAdapter] = {}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "Machine-readable reason."},
            "message": {"type": "string", "description": "What happened and what to do (English)."},
        },
    }},
}


def add_schema(name: str, model: type[BaseModel] | TypeAdapter) -> None:
    """Publish the JSON schema of *model* under ``components.schemas[name]``."""
    _MODELS[name] = model


def add_operation(
    path: str, method: str, *, summary: str, description: str = "",
    request: type[BaseModel] | None = None, response: type[BaseModel] | dict | None = None,
    status: int = 200, errors: dict[int, str] | None = None, auth: str | None = "agentToken",
    parameters: list[dict] | None = None, tags: tuple[str, ...] = ("sync",),
) -> None:
    """Document ``method path`` (path relative to /api/v1); errors maps status -> meaning."""
    operation: dict[str, Any] = {
        "summary": summary, "description": description, "tags": list(tags),
        "operationId": f"{method.lower()}_{path.strip('/').replace('/', '_').replace('.', '_')}",
        "responses": {str(status): _body(response, "Success")},
    }
    if request is not None:
        add_schema(request.__name__, request)
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": REF.format(model=request.__name__)}}}}
    for code, meaning in (errors or {}).items():
        operation["responses"][str(code)] = {"description": meaning, "content": {
            "application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    operation["security"] = [{auth: []}] if auth else []
    if parameters:
        operation["parameters"] = parameters
    _OPERATIONS[(path, method.lower())] = operation


def _body(response: type[BaseModel] | dict | None, description: str) -> dict:
    if response is None:
        return {"description": description}
    if isinstance(response, dict):
        schema = response
    else:
        add_schema(response.__name__, response)
        schema = {"$ref": REF.format(model=response.__name__)}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document() -> dict:
    """The whole OpenAPI 3.1 document."""
    paths: dict[str, dict] = {}
    for (path, method), operation in sorted(_OPERATIONS.items()):
        paths.setdefault(API_PREFIX + path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Dealer Portal API", "version": f"1 (record schema {SCHEMA_VERSION})",
                 "description": "Sync protocol between dealer agents and the portal (DESIGN §5)."},
        "paths": paths,
        "components": {"schemas": _schemas(), "securitySchemes": {
            "agentToken": {"type": "http", "scheme": "bearer",
                           "description": "The agent token obtained by enrolment."},
            "factoryToken": {"type": "http", "scheme": "bearer",
                             "description": "A factory-system token HQ issues in the portal."},
        }},
    }


def _schemas() -> dict:
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for name, model in _MODELS.items():
        if isinstance(model, TypeAdapter):
            schema = model.json_schema(ref_template=REF)
        else:
            schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return schemas
