"""The request pipeline every router uses: one transaction per request, the caller
resolved and the tenant set inside it, permissions named in ``Annotated`` aliases.

    async def list_campaigns(actor: Annotated[Actor, require("content:read")],
                             session: Transaction) -> ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession

from .admission import admit
from .principal import Actor, read_credentials, resolve_actor


async def _transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """Commits when the endpoint returns, rolls back when it raises, before the response
    is sent (scope="function"), so a failed commit is an error response, not a lost write."""
    sessions = request.app.state.database.sessions
    async with sessions() as session, session.begin():
        yield session


Transaction = Annotated[AsyncSession, Depends(_transaction, scope="function")]


async def _actor(
    request: Request,
    session: Transaction,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
    x_account_id: Annotated[str | None, Header()] = None,
) -> Actor:
    credentials = read_credentials(authorization, x_api_key, x_account_id)
    actor = await resolve_actor(session, credentials, secret=request.app.state.secrets.secret_key)
    await admit(request, session, actor)  # rate limit, idempotency key
    return actor


CurrentActor = Annotated[Actor, Depends(_actor)]


def admits(dependant: Dependant) -> bool:
    """Whether a route with these dependencies admits its requests here (rate limit,
    Idempotency-Key claim): it resolves an actor, directly or through ``require``."""
    pending = [dependant]
    while pending:
        current = pending.pop()
        if current.call is _actor:
            return True
        pending.extend(current.dependencies)
    return False


def require(permission: str) -> Any:
    """A dependency that yields the actor if it holds ``permission`` in the acting account."""

    async def check(actor: CurrentActor) -> Actor:
        actor.authorize(permission)
        return actor

    check.__name__ = f"require_{permission.replace(':', '_')}"
    check.required_permission = permission  # type: ignore[attr-defined]  # read by the role matrix
    return Depends(check)
