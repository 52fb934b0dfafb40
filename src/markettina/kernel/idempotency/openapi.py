"""The ``Idempotency-Key`` header in the OpenAPI document, on the operations that claim it.

The recorder reads the header on every unsafe request, but only a request pipeline that
claims it (identity's, for signed-in people and API keys) makes it mean anything, so the
app says which routes those are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from .claims import HEADER, MAX_KEY_LENGTH, UNSAFE_METHODS

PARAMETER_NAME = "IdempotencyKey"  # in components.parameters
PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        f"Optional: 1 to {MAX_KEY_LENGTH} printable ASCII characters; send a new random one "
        "(a UUID) per operation and the same one when retrying it. The key is kept for the "
        "account for 24 hours, only if the request's changes committed (a request that "
        "failed leaves no key: retry it with the same key). Repeating a completed request "
        "with its key runs nothing and answers with the stored status, headers and body, "
        "plus `Idempotent-Replayed: true`. 409 `idempotency_key_in_flight`: a request with "
        "this key is still running. 422 `idempotency_key_reused`: the key was used for "
        "another request (method, path and query, body or caller); 422 "
        "`idempotency_key_invalid`: a malformed key."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
               "pattern": "^[ -~]+$"},
}  # fmt: skip


def declare_header(app: FastAPI, *, claimed_by: Callable[[Dependant], bool]) -> None:
    """Declare the optional header on the unsafe operations of the routes whose
    dependencies ``claimed_by`` recognises as claiming the key."""
    generate = app.openapi
    declared: list[dict[str, Any]] = []  # the document last extended (FastAPI may rebuild it)

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not (declared and declared[-1] is schema):
            _declare(schema, app.routes, claimed_by)
            declared[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend the document


def _declare(
    schema: dict[str, Any], routes: Sequence[BaseRoute], claimed_by: Callable[[Dependant], bool]
) -> None:
    reference = {"$ref": f"#/components/parameters/{PARAMETER_NAME}"}
    operations = [
        schema["paths"][route.path_format][method.lower()]
        for route in iter_route_contexts(routes)  # included routers' too, as FastAPI sees them
        if isinstance(route.original_route, APIRoute) and route.include_in_schema
        and claimed_by(route.dependant)
        for method in sorted((route.methods or set()) & UNSAFE_METHODS)
    ]  # fmt: skip
    for operation in operations:
        operation.setdefault("parameters", []).append(reference)
    if operations:
        schema.setdefault("components", {}).setdefault("parameters", {})[PARAMETER_NAME] = PARAMETER
