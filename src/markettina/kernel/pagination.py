"""Cursor (keyset) pagination: the one way lists are paged. ``limit`` is at most 200."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from .errors import FieldError, ValidationFailed

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

Item = TypeVar("Item")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (at most 200).")]
Cursor = Annotated[
    str | None, Query(description="The `next_cursor` of the previous page.", max_length=512)
]


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = None


def encode_cursor(*values: Any) -> str:
    """The sort key of the last item of a page, opaque to the client."""
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad_cursor() from exc
    if not isinstance(values, list) or len(values) != parts:
        raise bad_cursor()
    return [str(v) for v in values]


def decode_time_cursor(
    cursor: str | None, id_kind: Callable[[str], Any] = uuid.UUID
) -> tuple[dt.datetime, Any] | None:
    """The (timestamp, id) a previous page ended at, for lists ordered by both
    (``id_kind`` reads the id: ``uuid.UUID``, or ``int`` for the v1 tables' integer ids)."""
    if cursor is None:
        return None
    at, row_id = decode_cursor(cursor, 2)
    try:
        return dt.datetime.fromisoformat(at), id_kind(row_id)
    except ValueError as exc:
        raise bad_cursor() from exc


def bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        "the cursor is not one this API issued",
        errors=[FieldError("query.cursor", "not a valid cursor", "invalid_cursor")],
    )


def page_of(rows: list[Item], limit: int, key: Any) -> Page[Item]:
    """``rows`` fetched with ``limit + 1``: the extra row says whether a next page exists."""
    if len(rows) <= limit:
        return Page(items=rows)
    items = rows[:limit]
    return Page(items=items, next_cursor=encode_cursor(*key(items[-1])))
