"""Every input the API declares follows the rules of ``kernel.web.inputs``: each body is a
``RequestModel`` (so NUL is refused in it), and each integer, boolean, string, instant and
JSON document of a body or a query/path parameter is bounded, strict or RFC 3339 as those
types make it. Read from the routes of the app itself, so a new route cannot forget."""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from markettina.app import create_app
from markettina.kernel.web.inputs import (
    INT32_MAX,
    INT32_MIN,
    Int32,
    RequestModel,
    iso_day_text,
    rfc3339_text,
    small_json_object,
    true_or_false_text,
)
from tests.support.api import suite_settings

GUARDS = {
    rfc3339_text: "rfc3339",
    iso_day_text: "iso_day",
    true_or_false_text: "query_flag",
    small_json_object: "json_object",
}
# a schema's own keys that hold no schema to check
NOT_SCHEMAS = {"metadata", "serialization", "ref", "cls", "config", "function", "custom_error_type"}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(settings=suite_settings())


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _without_none(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return [member for member in get_args(annotation) if member is not type(None)]
    return [annotation]


def _api_routes(app: FastAPI) -> Iterator[Any]:
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            yield route


def body_models(app: FastAPI) -> Iterator[tuple[str, Any]]:
    for route in _api_routes(app):
        for dependant in _dependants(route.dependant):
            for field in dependant.body_params:
                for model in _without_none(field.field_info.annotation):
                    yield f"{','.join(sorted(route.methods))} {route.path}", model


def parameters(app: FastAPI) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each query and path parameter's core schema, as FastAPI validates it."""
    for route in _api_routes(app):
        for dependant in _dependants(route.dependant):
            for where, fields in (("path", dependant.path_params),
                                  ("query", dependant.query_params)):  # fmt: skip
                for field in fields:
                    info = field.field_info
                    adapter = TypeAdapter(Annotated[info.annotation, info])
                    yield f"{route.path} {where}.{field.alias}", adapter.core_schema


def findings(schema: dict[str, Any], *, body: bool, at: str = "") -> list[str]:
    """What breaks the input rules in a core schema (empty: nothing)."""
    found: list[str] = []
    _walk(schema, body=body, at=at, guards=frozenset(), definitions={}, seen=set(), out=found)
    return found


def _walk(schema: dict[str, Any], *, body: bool, at: str, guards: frozenset[str],
          definitions: dict[str, Any], seen: set[str], out: list[str]) -> None:  # fmt: skip
    kind = schema.get("type")
    if kind == "definitions":
        definitions.update({d["ref"]: d for d in schema["definitions"]})
    if kind == "definition-ref":
        ref = schema["schema_ref"]
        if ref not in seen:
            seen.add(ref)
            _walk(definitions[ref], body=body, at=at, guards=guards, definitions=definitions,
                  seen=seen, out=out)  # fmt: skip
        return
    if kind is not None and kind.startswith("function-"):
        guards = guards | _guard_of(schema["function"]["function"])
    out.extend(f"{at}: {problem}" for problem in _rule_broken(kind, schema, body, guards))
    for key, value in schema.items():
        if key in NOT_SCHEMAS:
            continue
        for name, child in _schemas_in(value, at if key in ("schema", "choices") else at + "."):
            _walk(child, body=body, at=name, guards=guards, definitions=definitions,
                  seen=seen, out=out)  # fmt: skip


def _guard_of(function: Any) -> frozenset[str]:
    if function in GUARDS:
        return frozenset({GUARDS[function]})
    if "max_length" in getattr(function, "keywords", {}):  # Field(max_length=) over a type
        return frozenset({"max_length"})
    return frozenset()


def _schemas_in(value: Any, at: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        if "type" in value:
            yield at.rstrip("."), value
        else:  # a mapping of fields, by name
            for name, item in value.items():
                yield from _schemas_in(item, f"{at.rstrip('.')}.{name}")
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _schemas_in(item, at)


def _rule_broken(kind: str | None, schema: dict[str, Any], body: bool,
                 guards: frozenset[str]) -> Iterator[str]:  # fmt: skip
    if "json_object" in guards:
        return  # a free-form JSON document: bounded by its size as a whole
    if kind == "int":
        low = schema.get("ge", schema.get("gt"))
        high = schema.get("le", schema.get("lt"))
        if low is None or high is None or low < INT32_MIN or high > INT32_MAX:
            yield f"an integer without its column's bounds ({low}..{high})"
        if body and not schema.get("strict"):
            yield "a body integer that is not strict (takes false, '5')"
    elif kind == "bool" and body and not schema.get("strict"):
        yield "a body boolean that is not strict (takes 0, 1, 'yes')"
    elif kind == "bool" and not body and "query_flag" not in guards:
        yield "a parameter boolean that is not a QueryFlag (takes 0, 1, yes, on)"
    elif kind == "str" and schema.get("max_length") is None and "max_length" not in guards:
        yield "a string without max_length"
    elif kind in ("list", "set", "dict") and schema.get("max_length") is None:
        yield f"a {kind} without max_length"
    elif kind == "datetime" and "rfc3339" not in guards:
        yield "an instant that is not a Timestamp (takes numbers)"
    elif kind == "date" and "iso_day" not in guards:
        yield "a date that is not a CalendarDay (takes numbers)"
    elif kind in ("any", "float", "decimal", "bytes"):
        yield f"an input of type {kind}"


def test_every_request_body_is_a_request_model(app: FastAPI) -> None:
    found = list(body_models(app))
    assert len(found) >= 30, found
    loose = [f"{route}: {model}" for route, model in found
             if not (isinstance(model, type) and issubclass(model, RequestModel))]  # fmt: skip
    assert loose == [], "make these bodies RequestModel subclasses (kernel.web.inputs)"


def test_every_body_field_is_bounded_strict_and_rfc3339(app: FastAPI) -> None:
    broken = [
        problem
        for route, model in body_models(app)
        for problem in findings(model.__pydantic_core_schema__, body=True, at=f"{route} body")
    ]
    assert broken == []


def test_every_query_and_path_parameter_is_bounded_and_rfc3339(app: FastAPI) -> None:
    found = list(parameters(app))
    assert len(found) >= 40, found
    broken = [problem for at, schema in found for problem in findings(schema, body=False, at=at)]
    assert broken == []


def test_the_rules_catch_what_plain_pydantic_allows() -> None:
    """The check above can fail: a model of plain types breaks every rule."""

    class Loose(BaseModel):
        count: int
        on: bool
        name: str
        tags: list[str]
        at: dt.datetime
        day: dt.date
        extra: dict[str, Any]

    broken = findings(Loose.__pydantic_core_schema__, body=True, at="Loose")
    assert len(broken) == 11, broken  # count: 2, on, name, tags: 2, at, day, extra: 3
    assert findings(TypeAdapter(bool).core_schema, body=False) != []


def test_a_body_integer_is_json_schema_s_integer() -> None:
    """5.0 is the integer 5 (JSON Schema's integer, which the document declares); a fraction,
    a boolean or a numeric string is not an integer at all; the bounds stay documented."""

    class Body(RequestModel):
        count: Annotated[Int32, Field(ge=0, le=100)]
        limit: Int32 | None = None

    assert Body.model_validate_json('{"count": 5.0, "limit": -7.0}').model_dump() == {
        "count": 5,
        "limit": -7,
    }
    for refused in ('{"count": 5.5}', '{"count": false}', '{"count": "5"}', '{"count": 101.0}',
                    '{"count": 1, "limit": 0.5}'):  # fmt: skip
        with pytest.raises(ValidationError):
            Body.model_validate_json(refused)
    declared = Body.model_json_schema()["properties"]["count"]
    assert (declared["minimum"], declared["maximum"]) == (0, 100)
