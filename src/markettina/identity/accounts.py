"""The acting account and an agency's sub-accounts (its clients).

``accounts`` is a global table (no row-level security): every query here names the account
it means, the acting one or its children.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from sqlalchemy import select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from markettina.kernel.events import record
from markettina.kernel.pagination import Page, decode_time_cursor, page_of

from .events import AccountUpdated, SubAccountCreated
from .models import Account
from .principal import Actor

_NEW_WALLET = text("INSERT INTO token_wallets (account_id) VALUES (:account_id)")
SLUG_BASE_LENGTH = 50


async def get_account(session: AsyncSession, *, actor: Actor) -> Account:
    account = (
        await session.execute(
            select(Account).where(Account.id == actor.account_id, Account.deleted_at.is_(None))
        )
    ).scalar_one_or_none()
    if account is None:
        raise NotFound("no such account", code="account_not_found")
    return account


async def update_account(
    session: AsyncSession,
    *,
    actor: Actor,
    expected_version: int,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Account:
    """Change the acting account if it is still at ``expected_version`` (the trigger bumps it)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if settings is not None:
        changes["settings"] = settings
    if not changes:
        account = await get_account(session, actor=actor)
        if account.version != expected_version:
            raise _version_conflict(account.version)
        return account
    updated = (
        await session.execute(
            update(Account)
            .where(
                Account.id == actor.account_id,
                Account.deleted_at.is_(None),
                Account.version == expected_version,
            )
            .values(**changes)
            .returning(Account)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one_or_none()
    if updated is None:
        current = await get_account(session, actor=actor)  # gone: 404; else it moved on
        raise _version_conflict(current.version)
    await record(
        session,
        AccountUpdated(
            account_id=updated.id, changed=sorted(changes), name=updated.name,
            updated_by=actor.user_id,
        ),
        account_id=updated.id,
        aggregate_id=updated.id,
        aggregate_version=updated.version,
    )  # fmt: skip
    return updated


def _version_conflict(current: int) -> Conflict:
    return Conflict(
        f"the account changed since you read it (now at version {current}); "
        "read it again and retry",
        code="version_conflict",
    )


async def create_sub_account(
    session: AsyncSession, *, actor: Actor, name: str, slug: str | None = None
) -> Account:
    """A client account under the acting one, with its own (empty) token wallet."""
    parent = await get_account(session, actor=actor)
    if parent.parent_account_id is not None:
        raise ValidationFailed(
            "a sub-account cannot have sub-accounts of its own", code="nested_sub_account"
        )
    if slug is None:
        slug = await _free_slug(session, _slug_from(name))
    elif await _slug_taken(session, slug):
        raise Conflict(
            f"the slug {slug!r} is taken",
            errors=[FieldError("body.slug", "already taken", "unique")],
            code="slug_taken",
        )
    account = Account(name=name, slug=slug, parent_account_id=parent.id)
    session.add(account)
    await session.flush()
    async with tenant_scope(session, account.id):  # the wallet is a row of the new account
        await session.execute(_NEW_WALLET, {"account_id": account.id})
    await record(
        session,
        SubAccountCreated(
            account_id=parent.id, sub_account_id=account.id, name=account.name,
            slug=account.slug, created_by=actor.user_id,
        ),
        account_id=parent.id,
        aggregate_id=parent.id,
        aggregate_version=parent.version,
    )  # fmt: skip
    return account


async def list_sub_accounts(
    session: AsyncSession, *, actor: Actor, limit: int, cursor: str | None
) -> Page[Account]:
    query = (
        select(Account)
        .where(Account.parent_account_id == actor.account_id, Account.deleted_at.is_(None))
        .order_by(Account.created_at, Account.id)
        .limit(limit + 1)
    )
    after = decode_time_cursor(cursor)
    if after is not None:
        query = query.where(tuple_(Account.created_at, Account.id) > tuple_(*after))
    rows = list((await session.execute(query)).scalars())
    return page_of(rows, limit, lambda a: (a.created_at.isoformat(), a.id))


def _slug_from(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return base[:SLUG_BASE_LENGTH].strip("-") or "account"


async def _slug_taken(session: AsyncSession, slug: str) -> bool:
    found = await session.execute(select(Account.id).where(Account.slug == slug).limit(1))
    return found.first() is not None


async def _free_slug(session: AsyncSession, base: str) -> str:
    """``base`` itself if free, else ``base`` with a random suffix."""
    slug = base
    while await _slug_taken(session, slug):
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug
