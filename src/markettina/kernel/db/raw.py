"""Statements on a session's own transaction straight through psycopg, for the request's
hot path. The ORM's per-statement and per-row machinery costs far more than the query
itself (a page of 50 rows through ``Session.execute`` spends most of its time in result
processing); here a statement is compiled once, at its first use, and each call is one
prepared execution with psycopg's own type conversions (uuid, timestamptz, arrays).

Same transaction, same tenant, same row-level security as the session: only the Python
in between is skipped. A query runs on an ORM session or straight on a psycopg connection
in a transaction (the request pipeline's read lane has no session).
"""

from __future__ import annotations

import functools
from typing import Any

import psycopg
from psycopg.rows import RowFactory, namedtuple_row
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled

_DIALECT = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]

# an open transaction: an ORM session, or the psycopg connection of one
InTransaction = AsyncSession | psycopg.AsyncConnection[Any]


async def driver_connection(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under a session, inside the session's open transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)
    return driver


async def _connection(where: InTransaction) -> psycopg.AsyncConnection[Any]:
    if isinstance(where, psycopg.AsyncConnection):
        return where
    return await driver_connection(where)


class CompiledQuery:
    """A Core statement compiled once to psycopg's ``%(name)s`` form. Parameters are
    passed by the names of the statement's ``bindparam``s (or ``:name`` in ``text()``).

    It is compiled on first use, not where it is declared: compiling an ORM statement
    configures the mappers, which needs every table they reference imported, and a module
    (a job's, in a worker) may be imported before the context that declares one of them.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement

    @functools.cached_property
    def _compiled(self) -> Compiled:
        return self._statement.compile(dialect=_DIALECT)

    @functools.cached_property
    def sql(self) -> str:
        return self._compiled.string

    @functools.cached_property
    def names(self) -> frozenset[str]:
        return frozenset(self._compiled.params)

    def _check(self, params: dict[str, Any]) -> None:
        if params.keys() != self.names:
            raise TypeError(f"query takes {sorted(self.names)}, given {sorted(params)}")

    async def _fetch(
        self, where: InTransaction, rows: RowFactory[Any], params: dict[str, Any]
    ) -> list[Any]:
        self._check(params)
        async with (await _connection(where)).cursor(row_factory=rows) as cursor:
            await cursor.execute(self.sql, params, prepare=True)
            return await cursor.fetchall()

    async def run(self, where: InTransaction, **params: Any) -> None:
        """A statement that returns no rows (an UPDATE without RETURNING)."""
        self._check(params)
        async with (await _connection(where)).cursor() as cursor:
            await cursor.execute(self.sql, params, prepare=True)

    async def one(self, where: InTransaction, **params: Any) -> Any:
        """Exactly one row, with attribute access by column name."""
        (row,) = await self._fetch(where, namedtuple_row, params)
        return row

    async def all(self, where: InTransaction, **params: Any) -> list[Any]:
        """Every row, with attribute access by column name."""
        return await self._fetch(where, namedtuple_row, params)

    async def send(self, connection: psycopg.AsyncConnection[Any], **params: Any) -> Any:
        """Queue the statement on a connection in pipeline mode; the cursor's ``fetchone``
        after the pipeline's sync gives the row (attribute access by column name)."""
        self._check(params)
        cursor = connection.cursor(row_factory=namedtuple_row)
        await cursor.execute(self.sql, params, prepare=True)
        return cursor
