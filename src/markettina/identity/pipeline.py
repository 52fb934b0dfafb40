"""The request pipeline's steps, composed in one function that every authenticated request
goes through, whichever path serves it (the routed dependencies in ``dependencies``, the
read lane in ``read_lane``): a step added here cannot be skipped by one of them.

In order: the credentials (read from the headers), the actor (the caller's context looked
up as no tenant, its ``BEGIN`` sent in the same round trip), the authorization (the
route's permission), the admission (the account's rate limit counted), the tenant set to
the acting account (with an API key's use recorded), then the request's Idempotency-Key
claimed. A refusal at any step raises
before the next: a request refused before its admission is neither counted nor written.
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from markettina.kernel import idempotency, rate_limits
from markettina.kernel.db.tenant import enter_tenant, tenant_scope
from markettina.kernel.errors import Unauthorized, ValidationFailed

from .principal import (
    Actor,
    Credentials,
    account_from_header,
    api_key_prefix_of,
    key_actor,
    key_context,
    key_touch,
    principal_from_token,
    user_actor,
    user_context,
)


async def admit(
    request: Request,
    connection: psycopg.AsyncConnection[Any],
    credentials: Credentials,
    *,
    permission: str | None,
    session: AsyncSession | None = None,
) -> Actor:
    """The actor of an admitted request, its transaction (on ``connection``, begun here
    if it was not) scoped to the acting account. ``permission`` is the route's (None: the
    endpoint authorizes on its own); ``session`` is the ORM session over ``connection``,
    which an Idempotency-Key's claim needs (only unsafe requests send one, and only the
    routed path serves them)."""
    scope = request.scope
    state = scope["app"].state
    actor = await identify(connection, credentials, secret=state.secrets.secret_key)
    if permission is not None:
        actor.authorize(permission)
    await rate_limits.count(scope, state.rate_limiter, actor.account_id)
    await enter_actor_tenant(connection, actor)
    pending = idempotency.pending_key(scope)
    if pending is not None:
        if session is None:
            raise RuntimeError("an Idempotency-Key is claimed in an ORM session")
        await idempotency.claim(
            request, session, pending, account_id=actor.account_id, caller=_caller(actor)
        )
    return actor


async def _looked_up(
    connection: psycopg.AsyncConnection[Any], statement: tuple[Any, dict[str, Any]]
) -> list[Any]:
    """The rows of the caller's look-up, sent with the transaction's ``BEGIN`` (psycopg's
    pipeline mode): one round trip."""
    query, params = statement
    async with connection.pipeline():
        cursor = await query.send(connection, **params)
    return list(await cursor.fetchall())


async def identify(
    connection: psycopg.AsyncConnection[Any], credentials: Credentials, *, secret: str
) -> Actor:
    """The caller and the account it acts for; anything doubtful is refused. The look-up
    runs as no tenant."""
    if credentials.bearer is not None:
        principal = principal_from_token(credentials.bearer, secret)
        acting = principal.home_account_id
        if credentials.account_header is not None:
            acting = account_from_header(credentials.account_header)
        rows = await _looked_up(connection, user_context(principal, acting))
        return user_actor(principal, acting, rows[0])
    if credentials.api_key is None:
        raise Unauthorized("sign in, or send an API key")
    prefix = api_key_prefix_of(credentials.api_key)
    acting_account = None
    header_error: ValidationFailed | None = None
    if credentials.account_header is not None:
        try:
            acting_account = account_from_header(credentials.account_header)
        except ValidationFailed as exc:  # told only to a caller whose key is good
            header_error = exc
    rows = await _looked_up(connection, key_context(prefix, acting_account))
    actor = key_actor(credentials.api_key, acting_account, rows)
    if header_error is not None:
        raise header_error
    return actor


async def enter_actor_tenant(connection: psycopg.AsyncConnection[Any], actor: Actor) -> None:
    """The transaction's tenant, set only now that the caller is accepted and admitted,
    with an API key's use recorded in the same round trip. The key's row belongs to its
    own account: a key acting for a sub-account records its use as that account."""
    key_id = actor.principal.api_key_id
    if key_id is None:
        await enter_tenant(connection, actor.account_id)
        return
    home = actor.principal.home_account_id
    touch, params = key_touch(key_id, home)
    if actor.account_id == home:
        await enter_tenant(connection, home, touch, **params)
        return
    await enter_tenant(connection, actor.account_id)
    async with tenant_scope(connection, home):
        await touch.run(connection, **params)


def _caller(actor: Actor) -> str:
    principal = actor.principal
    if principal.api_key_id is not None:
        return f"api_key:{principal.api_key_id}"
    return f"user:{principal.user_id}"
