"""API keys of an account: issued once (only then is the full key seen), stored as a hash
behind a visible prefix, scoped, maybe expiring, revocable; the pipeline records their use."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.db.raw import InTransaction
from markettina.kernel.errors import FieldError, Forbidden, NotFound
from markettina.kernel.events import record
from markettina.kernel.security import new_api_key

from .events import ApiKeyCreated, ApiKeyRevoked
from .models import ApiKey
from .principal import Actor


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    key: str  # the full key: returned once, never stored


LISTED = (
    ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.scopes, ApiKey.expires_at,
    ApiKey.created_at, ApiKey.last_used_at, ApiKey.revoked_at, ApiKey.created_by,
)  # fmt: skip


def _beyond_creator(actor: Actor, scopes: Iterable[str]) -> list[str]:
    """The scopes the creator does not hold in the acting account (a key is never more)."""
    return [scope for scope in scopes if scope not in actor.permissions]


async def create_api_key(
    *,
    session: AsyncSession,
    actor: Actor,
    name: str,
    scopes: list[str],
    expires_at: dt.datetime | None,
) -> IssuedApiKey:
    beyond = _beyond_creator(actor, scopes)
    if beyond:
        raise Forbidden(
            f"a key cannot do more than its creator; you do not hold {', '.join(beyond)}",
            code="scope_exceeds_role",
            errors=[
                FieldError(f"body.scopes.{i}", "more than you may do", "scope_exceeds_role")
                for i, scope in enumerate(scopes)
                if scope in beyond
            ],
        )
    issued = new_api_key()
    api_key = ApiKey(
        account_id=actor.account_id,
        name=name,
        prefix=issued.prefix,
        key_hash=issued.key_hash,
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=actor.user_id,
    )
    session.add(api_key)
    await session.flush()
    await session.refresh(api_key)
    await record(
        session,
        ApiKeyCreated(
            api_key_id=api_key.id, name=api_key.name, prefix=api_key.prefix,
            scopes=api_key.scopes, expires_at=api_key.expires_at, created_by=api_key.created_by,
        ),
        account_id=actor.account_id,
        aggregate_id=api_key.id,
    )  # fmt: skip
    return IssuedApiKey(api_key=api_key, key=issued.key)


LISTED_PAGE = NewestFirst(
    select(*LISTED).where(ApiKey.account_id == bindparam("account_id")),
    at=ApiKey.created_at,
    id_=ApiKey.id,
)


async def list_api_keys(
    *, where: InTransaction, actor: Actor, limit: int, cursor: str | None
) -> bytes:
    """A page of LISTED as the JSON body of ``Page[ApiKeyOut]``, rendered by PostgreSQL."""
    return await LISTED_PAGE.json_page(where, limit=limit, cursor=cursor, **listed_of(actor))


def listed_of(actor: Actor) -> dict[str, Any]:
    """The parameters of LISTED_PAGE: the acting account's keys."""
    return {"account_id": actor.account_id}


async def revoke_api_key(*, session: AsyncSession, actor: Actor, key_id: uuid.UUID) -> None:
    """Idempotent: revoking a revoked key keeps its first revocation time."""
    api_key = (
        await session.execute(
            select(ApiKey)
            .where(ApiKey.account_id == actor.account_id, ApiKey.id == key_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if api_key is None:
        raise NotFound("no such API key", code="api_key_not_found")
    if api_key.revoked_at is None:
        api_key.revoked_at = dt.datetime.now(dt.UTC)
        await session.flush()
        await record(
            session,
            ApiKeyRevoked(
                api_key_id=api_key.id, name=api_key.name, prefix=api_key.prefix,
                revoked_by=actor.user_id,
            ),
            account_id=actor.account_id,
            aggregate_id=api_key.id,
        )  # fmt: skip
