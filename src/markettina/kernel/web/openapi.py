"""The OpenAPI document says what the server answers, derived once for every route.

Each operation documents the problems it can answer (``application/problem+json``, one
``Problem`` schema, the one the handlers in ``problems.py`` send), from what the route is
made of rather than from a list kept by hand:

- its input: a request body can fail to parse (400); any parameter or body can be invalid
  (422); a path parameter names something that may not exist (404);
- the guards it depends on (see ``Guard``): a context declares what its request pipeline
  answers (401, 403, 429, ...), which security schemes it accepts, which header
  parameters are really credentials (hidden: the security schemes document them) and
  which headers it types more precisely than the function signature does;
- what the route itself declares with ``responses=problems(...)`` (a 503 when a payment
  provider is not configured, a 409 of its own).

A route added tomorrow gets the same treatment without anyone listing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from ..errors import PROBLEM_CONTENT_TYPE

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: every failure the API answers.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable, for programs"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Each invalid input, named `<where>.<path>` (`body.email`)",
            "items": {
                "type": "object",
                "required": ["field", "message", "code"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,  # extension members (RFC 9457 §3.2)
}

# what each status means, wherever it is answered
STATUS_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request: the body cannot be read, or the request is refused as a whole",
    401: "No usable credential (`WWW-Authenticate` says which scheme)",
    402: "Not enough tokens",
    403: "Authenticated, but not allowed",
    404: "Nothing there, or nothing the caller may know of",
    409: "Conflicts with what exists, or a request with this `Idempotency-Key` is in flight",
    412: "The resource changed since the version sent",
    422: "Invalid input: `errors` names each field",
    429: "Too many requests: see `Retry-After`",
    503: "A service this operation needs is unavailable or not configured",
}

_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
    429: {"Retry-After": {"schema": {"type": "integer", "minimum": 0},
                          "description": "Seconds until a new attempt may pass"}},
}  # fmt: skip


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the problems it answers beyond those derived for it."""
    return {status: {"description": STATUS_DESCRIPTIONS[status]} for status in statuses}


@dataclass(frozen=True)
class Guard:
    """What a dependency adds to every operation depending on it (directly or not).

    ``statuses`` it may answer, and ``unsafe_statuses`` too on POST/PUT/PATCH/DELETE;
    ``security``: the names of the security schemes, any one of which it accepts;
    ``credential_headers``: header parameters it reads that those schemes document
    instead (lower case); ``headers``: header parameters it reads, documented as these
    parameter objects (by lower-case name), whether or not its signature declares them.
    """

    statuses: frozenset[int]
    unsafe_statuses: frozenset[int] = frozenset()
    security: tuple[str, ...] = ()
    credential_headers: frozenset[str] = frozenset()
    headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)


def document_problems(
    app: FastAPI,
    *,
    guards: Mapping[Callable[..., Any], Guard],
    security_schemes: Mapping[str, dict[str, Any]],
) -> None:
    """Extend the app's document: problems per operation, security per operation."""
    generate = app.openapi
    extended: list[dict[str, Any]] = []  # the document last extended (FastAPI may rebuild it)

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not (extended and extended[-1] is schema):
            _extend(schema, app.routes, guards, security_schemes)
            extended[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend the document


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    pending = [dependant]
    while pending:
        current = pending.pop()
        if current.call is not None:
            # a dependency made by a factory (one per permission) names the guard it stands for
            yield getattr(current.call, "guarded_as", current.call)
        pending.extend(current.dependencies)


def _extend(
    schema: dict[str, Any],
    routes: Sequence[BaseRoute],
    guards: Mapping[Callable[..., Any], Guard],
    security_schemes: Mapping[str, dict[str, Any]],
) -> None:
    components = schema.setdefault("components", {})
    for route in iter_route_contexts(routes):
        if not (isinstance(route.original_route, APIRoute) and route.include_in_schema):
            continue
        applied = [guards[call] for call in _calls(route.dependant) if call in guards]
        for method in sorted(route.methods or ()):
            operation = schema["paths"][route.path_format][method.lower()]
            _apply_guards(operation, applied)
            _document_problems(operation, applied, unsafe=method in UNSAFE_METHODS)
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    if security_schemes:
        components["securitySchemes"] = dict(security_schemes)
    _forget_unused_schemas(schema, ("HTTPValidationError", "ValidationError"))


def _apply_guards(operation: dict[str, Any], guards: list[Guard]) -> None:
    hidden = frozenset().union(*(g.credential_headers for g in guards))
    retyped: dict[str, dict[str, Any]] = {}
    for guard in guards:
        retyped.update(guard.headers)
    parameters = []
    for parameter in operation.get("parameters", []):
        name = str(parameter.get("name", "")).lower()
        if parameter.get("in") == "header" and name in hidden:
            continue
        if parameter.get("in") == "header" and name in retyped:
            parameter = retyped.pop(name)
        parameters.append(_never_null(parameter))
    parameters.extend(retyped.values())  # read by the guard, not declared in its signature
    if parameters:
        operation["parameters"] = parameters
    else:
        operation.pop("parameters", None)
    security = [scheme for guard in guards for scheme in guard.security]
    if security:
        operation["security"] = [{scheme: []} for scheme in dict.fromkeys(security)]


def _never_null(parameter: dict[str, Any]) -> dict[str, Any]:
    """A parameter is absent or a string on the wire, never null: ``str | None = None``
    documents an optional parameter, not a nullable one."""
    schema = parameter.get("schema", {})
    alternatives = [a for a in schema.get("anyOf", ()) if a.get("type") != "null"]
    if len(alternatives) != 1 or len(alternatives) == len(schema["anyOf"]):
        return parameter
    rest = {k: v for k, v in schema.items() if k != "anyOf" and (k, v) != ("default", None)}
    return {**parameter, "schema": {**alternatives[0], **rest}}


def _document_problems(operation: dict[str, Any], guards: list[Guard], *, unsafe: bool) -> None:
    statuses: set[int] = set()
    for guard in guards:
        statuses |= guard.statuses | (guard.unsafe_statuses if unsafe else frozenset())
    parameters = operation.get("parameters", [])
    if "requestBody" in operation:
        statuses |= {400, 422}
    if parameters:
        statuses.add(422)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    responses = operation.setdefault("responses", {})
    statuses |= {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    for status in sorted(statuses):
        declared = responses.get(str(status), {}).get("description")
        if declared in (None, "", "Validation Error"):  # FastAPI's own 422 says nothing more
            declared = STATUS_DESCRIPTIONS.get(status, "")
        response: dict[str, Any] = {
            "description": declared,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        responses[str(status)] = response


def _forget_unused_schemas(schema: dict[str, Any], names: Sequence[str]) -> None:
    """FastAPI's own validation-error schemas, once no operation refers to them."""
    schemas = schema.get("components", {}).get("schemas", {})
    text = repr(schema["paths"])
    for name in names:
        if f"#/components/schemas/{name}'" not in text:
            schemas.pop(name, None)
