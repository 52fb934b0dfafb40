"""The request pipeline as FastAPI dependencies: one transaction per request, in which
``pipeline.admit`` resolves the caller, sets the tenant, checks the route's permission
(named in ``Annotated`` aliases) and admits the request.

    async def list_campaigns(actor: Annotated[Actor, require("content:read")],
                             session: Transaction) -> ...

A route that runs only Core statements (``CompiledQuery``, a plain read's page) takes
the request's transaction as a psycopg connection instead, with no ORM session
(``Connection`` and ``require_on_connection``): opening a session, checking its
connection out through SQLAlchemy's pool and committing through its greenlet bridge
cost a request 130 to 200 us of CPU that such a route does not need.

    async def list_campaigns(actor: Annotated[Actor, require_on_connection("content:read")],
                             connection: Connection) -> ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.raw import driver_connection

from .pipeline import admit
from .principal import Actor, Credentials, read_credentials


async def _transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """Commits when the endpoint returns, rolls back when it raises, before the response
    is sent (scope="function"), so a failed commit is an error response, not a lost write."""
    sessions = request.app.state.database.sessions
    async with sessions() as session, session.begin():
        yield session


Transaction = Annotated[AsyncSession, Depends(_transaction, scope="function")]


async def _connection(request: Request) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """The request's transaction on a connection of the app's lean pool (the one the read
    lane takes): committed when the endpoint returns, before the response is sent; when
    it raises, the pool rolls the transaction back as the connection returns."""
    async with request.app.state.read_pool.connection() as connection:
        yield connection
        await connection.commit()


Connection = Annotated[psycopg.AsyncConnection[Any], Depends(_connection, scope="function")]


def _credentials(request: Request) -> Credentials:
    """The credentials in the request's headers. Read here, not as three ``Header()``
    parameters: FastAPI validates each declared parameter on every request (about 50 us
    of CPU for the three), while a header is a plain string the pipeline checks itself.
    The OpenAPI document shows them as the guard's security schemes and account header
    (``identity.openapi``)."""
    headers = request.headers
    return read_credentials(
        headers.get("authorization"), headers.get("x-api-key"), headers.get("x-account-id")
    )


def _admitted(permission: str | None) -> Any:
    """The dependency of a route that ``permission`` guards (None: the endpoint authorizes
    on its own): the request through ``pipeline.admit`` in the request's transaction."""

    async def admitted(request: Request, session: Transaction) -> Actor:
        credentials = _credentials(request)
        connection = await driver_connection(session)
        return await admit(request, connection, credentials, permission=permission, session=session)

    return _guard(admitted, permission)


def _admitted_on_connection(permission: str) -> Any:
    """As ``_admitted``, in a transaction without an ORM session (``Connection``). An
    Idempotency-Key's claim needs a session: a route guarded so claims none (reads)."""

    async def admitted(request: Request, connection: Connection) -> Actor:
        return await admit(request, connection, _credentials(request), permission=permission)

    return _guard(admitted, permission)


def _guard(admitted: Any, permission: str | None) -> Any:
    if permission is not None:
        admitted.__name__ = f"require_{permission.replace(':', '_')}"
        admitted.required_permission = permission  # the role matrix reads it
    admitted.admits_requests = True  # read by ``admits``
    admitted.guarded_as = _admitted  # one guard in the OpenAPI, whichever transaction
    return admitted


CurrentActor = Annotated[Actor, Depends(_admitted(None))]


def admits(dependant: Dependant) -> bool:
    """Whether a route with these dependencies admits its requests here (rate limit,
    Idempotency-Key claim): it resolves an actor, through ``CurrentActor`` or ``require``."""
    pending = [dependant]
    while pending:
        current = pending.pop()
        if getattr(current.call, "admits_requests", False):
            return True
        pending.extend(current.dependencies)
    return False


def require(permission: str) -> Any:
    """A dependency that yields the actor if it holds ``permission`` in the acting account
    (checked before the request is admitted: a refused request is not counted)."""
    return Depends(_admitted(permission))


def require_on_connection(permission: str) -> Any:
    """As ``require``, for a route that takes ``Connection`` rather than ``Transaction``
    (only Core statements, no Idempotency-Key)."""
    return Depends(_admitted_on_connection(permission))
