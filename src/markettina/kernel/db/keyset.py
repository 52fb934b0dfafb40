"""A list read newest first by (timestamp, id), paged by cursor, on the request's hot path.

The page is the response body itself, rendered by PostgreSQL (``json_agg`` over the
selected columns, timestamps as RFC 3339 UTC the way the response models write them),
compiled once (``raw.CompiledQuery``) for the first page and for the pages after a
cursor. A page of 50 costs the API process one text value instead of 50 rows to
convert, validate and serialise; tests hold it equal to the response model's rendering.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import DateTime, Select, Text, bindparam, cast, func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement

from ..pagination import decode_time_cursor, encode_cursor
from .raw import CompiledQuery, InTransaction

# constants are written into the statement, not bound: a bound value costs every call
_RFC3339_FORMAT: ColumnElement[str] = literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'""")
_EMPTY_ARRAY: ColumnElement[Any] = literal_column("'[]'::json")
_FIRST: ColumnElement[int] = literal_column("1")


def newest_first(
    statement: Select[*tuple[Any, ...]],
    *,
    at: InstrumentedAttribute[dt.datetime],
    id_: InstrumentedAttribute[uuid.UUID],
    limit: int,
    cursor: str | None,
) -> Select[*tuple[Any, ...]]:
    """``statement`` ordered newest first by (``at``, ``id_``), resumed after ``cursor``,
    with one row past ``limit`` (``pagination.page_of`` reads it as "a next page exists")."""
    statement = statement.order_by(at.desc(), id_.desc()).limit(limit + 1)
    after = decode_time_cursor(cursor)
    if after is None:
        return statement
    return statement.where(tuple_(at, id_) < tuple_(*after))


class NewestFirst:
    def __init__(
        self,
        statement: Select[*tuple[Any, ...]],
        *,
        at: InstrumentedAttribute[dt.datetime],
        id_: InstrumentedAttribute[uuid.UUID] | InstrumentedAttribute[int],
    ) -> None:
        # a cursor's id is read as the column's kind: a uuid, or a v1 table's integer
        self._id_kind: Callable[[str], Any] = int if id_.type.python_type is int else uuid.UUID
        newest_first = (at.desc(), id_.desc())
        first = statement.order_by(*newest_first).limit(bindparam("limit"))
        after = first.where(tuple_(at, id_) < tuple_(bindparam("after_at"), bindparam("after_id")))
        self._first_json = CompiledQuery(_rendered(first, at.key, id_.key, newest_first))
        self._after_json = CompiledQuery(_rendered(after, at.key, id_.key, newest_first))

    def read_cursor(self, cursor: str | None) -> tuple[dt.datetime, Any] | None:
        """The (timestamp, id) ``cursor`` resumes after; a 422 for one this list did not
        issue (an id of the other kind included)."""
        return decode_time_cursor(cursor, self._id_kind)

    def page_query(
        self, *, limit: int, cursor: str | None, **params: Any
    ) -> tuple[CompiledQuery, dict[str, Any]]:
        """The statement of one page and its parameters (a bad cursor is a 422 here, before
        anything runs); ``render`` turns its one row into the response body."""
        after = self.read_cursor(cursor)
        if after is None:
            return self._first_json, {**params, "limit": limit + 1, "page_size": limit}
        return self._after_json, {
            **params, "after_at": after[0], "after_id": after[1],
            "limit": limit + 1, "page_size": limit,
        }  # fmt: skip

    @staticmethod
    def render(row: Any) -> bytes:
        """The JSON body of a ``Page`` response: ``{"items": [...], "next_cursor"}``."""
        next_cursor = None
        if row.more:
            next_cursor = encode_cursor(row.last_at.isoformat(), row.last_id)
        return b'{"items":%s,"next_cursor":%s}' % (
            row.items.encode(),
            json.dumps(next_cursor).encode(),
        )

    async def json_page(
        self, where: InTransaction, *, limit: int, cursor: str | None, **params: Any
    ) -> bytes:
        """The page as the JSON body of a ``Page`` response."""
        query, bound = self.page_query(limit=limit, cursor=cursor, **params)
        return self.render(await query.one(where, **bound))


def _json_value(column: ColumnElement[Any]) -> ColumnElement[Any]:
    if isinstance(column.type, DateTime) and column.type.timezone:
        return func.to_char(func.timezone(literal_column("'UTC'"), column), _RFC3339_FORMAT)
    return column


def _last(column: ColumnElement[Any], last: ColumnElement[bool]) -> ColumnElement[Any]:
    """The column's value on the page's last row (NULL when the page is not full)."""
    return array_agg(column).filter(last)[_FIRST]  # type: ignore[no-untyped-call,no-any-return]


def _rendered(
    page: Select[*tuple[Any, ...]],
    at: str,
    id_: str,
    order: tuple[ColumnElement[Any], ...],
) -> Select[*tuple[Any, ...]]:
    """One row: the page's items as a JSON array (at most ``page_size``), whether more
    rows exist, and the sort key of the page's last item."""
    rows = page.add_columns(func.row_number().over(order_by=order).label("n")).subquery()
    n = rows.c.n
    in_page = n <= bindparam("page_size")
    last = n == bindparam("page_size")
    # each row's item is a row of its own (the fields, timestamps rendered), so json_agg
    # writes it with its column names: cheaper than json_build_object's pairs
    item = (
        select(*(_json_value(c).label(c.key) for c in rows.c if c.key != "n"))
        .correlate(rows)
        .lateral("item")
    )
    items = func.coalesce(
        func.json_agg(aggregate_order_by(item.table_valued(), n)).filter(in_page), _EMPTY_ARRAY
    )
    return select(
        cast(items, Text).label("items"),
        (func.count() > bindparam("page_size")).label("more"),
        _last(rows.c[at], last).label("last_at"),
        _last(rows.c[id_], last).label("last_id"),
    ).select_from(rows, item)
