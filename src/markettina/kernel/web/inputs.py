"""What the API accepts, decided once: the base of every request body and the shared types
its fields and parameters are made of.

- ``RequestModel``: no unknown field, and no text PostgreSQL cannot store (a NUL, a lone
  surrogate) anywhere in the body, nested JSON included, each one named (``body.settings.a``).
- Integers are bounded by their column (``Int32`` and narrower); in a body they are strict:
  ``false`` is not 0 and ``"5"`` is not 5 (``5.0`` is, as JSON Schema's integer says).
  Booleans in a body are strict too (``Flag``):
  0 and 1 are not booleans. A query flag is ``true`` or ``false`` (``QueryFlag``).
- Every string is bounded (``max_length``); an address to store is an ``Email``.
- Instants are RFC 3339 text with an offset (``Timestamp``), never a number; days are
  ``YYYY-MM-DD`` (``CalendarDay``).
- ``Omittable[T]``: a field of a partial update that may be left out but is never null.
- ``JsonObject``: a free-form JSON object stored as jsonb, at most 16 KB.

NUL in a query string, a path or a header is refused before any route runs (``nul_guard``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import types
from collections.abc import Iterator
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    GetCoreSchemaHandler,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from ..text import unstorable

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
JSON_OBJECT_MAX_BYTES = 16_384

Location = tuple[str | int, ...]


def _unstorable_text(value: Any, at: Location) -> Iterator[InitErrorDetails]:
    if isinstance(value, str):
        found = unstorable(value)
        if found is not None:
            code, message = found
            yield InitErrorDetails(type=PydanticCustomError(code, message), loc=at, input=value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield from _unstorable_text(key, (*at, key))
            yield from _unstorable_text(item, (*at, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _unstorable_text(item, (*at, index))


class RequestModel(BaseModel):
    """The base of every request body: a test holds every route to it."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        errors = list(_unstorable_text(data, ()))
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        if isinstance(data, dict):
            integers = _integer_fields(cls)
            return {k: whole_number(v) if k in integers else v for k, v in data.items()}
        return data


@functools.cache
def _integer_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of ``model`` that hold an integer (or null)."""
    return frozenset(
        name for name, field in model.model_fields.items() if _holds_integer(field.annotation)
    )


def _holds_integer(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        return _holds_integer(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = [a for a in get_args(annotation) if a is not type(None)]
        return len(kinds) == 1 and _holds_integer(kinds[0])
    return annotation is int


# --- integers and booleans --------------------------------------------------------------------


def whole_number(value: Any) -> Any:
    """JSON Schema's integer: a number with no fraction, ``5.0`` included, is that integer;
    anything else goes on to the strict check (``false``, ``"5"`` and ``5.5`` are refused).
    ``RequestModel`` applies it to its integer fields (a validator inside the type would hide
    the bounds of narrowed integers from the JSON Schema)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


Int32 = Annotated[int, Strict(), Field(ge=INT32_MIN, le=INT32_MAX)]
"""A body integer stored in an ``integer`` column; narrow it with ``Annotated[Int32, Field()]``."""
PositiveInt32 = Annotated[Int32, Field(ge=1)]
"""A body integer id or version (``integer`` columns, counted from 1)."""
Flag = Annotated[bool, Strict()]
"""A body boolean: ``true`` or ``false`` only."""

Int32Param = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
"""A query or path integer (text in the URL, so not strict) stored in an ``integer`` column."""
PositiveInt32Param = Annotated[Int32Param, Field(ge=1)]


def true_or_false_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise PydanticCustomError("bool_parsing", "true or false")


QueryFlag = Annotated[bool, BeforeValidator(true_or_false_text)]
"""A query boolean: ``true`` or ``false`` (not 0, 1, yes, on ...)."""


# --- instants and days ----------------------------------------------------------------------

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def rfc3339_text(value: Any) -> Any:
    """Lets through RFC 3339 text with an offset (or a datetime made in Python), nothing else:
    pydantic alone would take ``0.5`` as a Unix time."""
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise PydanticCustomError(
        "rfc3339", "an RFC 3339 date and time with an offset, e.g. 2026-01-31T09:30:00Z"
    )


def iso_day_text(value: Any) -> Any:
    """Lets through ``YYYY-MM-DD`` (or a date made in Python), nothing else."""
    if (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and _DAY.fullmatch(value)
    ):
        return value
    raise PydanticCustomError("iso_date", "a date as YYYY-MM-DD")


def _in_utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is in year 10000 in UTC
        raise PydanticCustomError("datetime_range", "outside the years 1 to 9999 in UTC") from None


Timestamp = Annotated[AwareDatetime, BeforeValidator(rfc3339_text), AfterValidator(_in_utc)]
"""An instant sent to the API (body or query): RFC 3339 with ``Z`` or an offset, held in UTC."""
CalendarDay = Annotated[dt.date, BeforeValidator(iso_day_text)]
"""A day sent to the API: ``YYYY-MM-DD``."""


# --- text ------------------------------------------------------------------------------------

Email = Annotated[EmailStr, Field(max_length=320)]
"""An e-mail address to store (RFC 5321 caps one at 254 characters; 320 is the field's bound)."""


# --- partial updates and JSON documents -------------------------------------------------------

T = TypeVar("T")


class _NotNull:
    """Refuses an explicit null; the field's schema (and the OpenAPI document) is its
    type without null. A left-out field keeps its default (None), which is not validated."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        members = [member for member in getattr(source, "__args__", ()) if member is not type(None)]
        # ``T | None`` is generated as ``T`` alone: the schema says the field is never null
        inner = handler.generate_schema(members[0]) if len(members) == 1 else handler(source)
        return core_schema.no_info_before_validator_function(refuse_null, inner)


def refuse_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("not_null", "may be left out, not null")
    return value


Omittable = Annotated[T | None, _NotNull()]
"""A field of a partial update: left out it stays as it is; null is refused."""


def small_json_object(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, separators=(",", ":"))) > JSON_OBJECT_MAX_BYTES:
        raise PydanticCustomError(
            "too_large", "at most {limit} bytes of JSON", {"limit": JSON_OBJECT_MAX_BYTES}
        )
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(small_json_object)]
"""A free-form JSON object stored as jsonb: at most 16 KB (and, as any body, no NUL)."""
