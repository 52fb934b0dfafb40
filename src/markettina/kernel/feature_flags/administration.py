"""Staff's changes to the flags: global defaults, and one account's overrides.

Global rows are written only in a staff transaction (``app.staff_admin_user_id`` is set;
row-level security refuses them to everyone else); an account's overrides are written
scoped to that account. Services never commit: the caller's transaction does, and then
this process forgets its cached flags (other processes hear the trigger's NOTIFY).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, event, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ..db.tenant import tenant_scope
from ..errors import NotFound
from ..models import FeatureFlag
from ..pagination import Page, decode_cursor, page_of
from .cache import Feature, flag_cache
from .service import FLAG_COLUMNS, effective_features

STAFF_SETTING = "app.staff_admin_user_id"
ONE_FLAG_PER_ACCOUNT = "uq_feature_flags_account_id_feature_name"


@dataclass(frozen=True)
class AccountFeature:
    """One flag as staff see it for an account: the outcome, and the override if any."""

    name: str
    effective: Feature
    override: FeatureFlag | None


async def list_global_flags(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> Page[FeatureFlag]:
    """The global defaults in name order."""
    statement = (
        select(FeatureFlag)
        .where(FeatureFlag.account_id.is_(None))
        .order_by(FeatureFlag.feature_name)
        .limit(limit + 1)
    )
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        statement = statement.where(FeatureFlag.feature_name > after)
    rows = list((await session.execute(statement)).scalars())
    return page_of(rows, limit, lambda flag: (flag.feature_name,))


async def put_global_flag(
    session: AsyncSession,
    *,
    admin_user_id: int,
    name: str,
    enabled: bool,
    rollout_percent: int,
    description: str | None,
    config: dict[str, Any],
) -> tuple[FeatureFlag, bool]:
    """Create or replace a global default; returns it and whether it is new."""
    await _act_as_staff(session, admin_user_id)
    values: dict[str, Any] = {
        "enabled": enabled,
        "rollout_percent": rollout_percent,
        "description": description,
        "config": config,
    }
    flag, created = await _upsert(session, account_id=None, name=name, values=values)
    _forget_after_commit(session)
    return flag, bool(created)


async def put_override(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    name: str,
    enabled: bool,
    config: dict[str, Any],
) -> tuple[FeatureFlag, bool]:
    """Set one account's answer for a flag that exists globally."""
    await _global_flag(session, name)
    await _account_exists(session, account_id)
    values: dict[str, Any] = {"enabled": enabled, "config": config}
    async with tenant_scope(session, account_id):
        flag, created = await _upsert(session, account_id=account_id, name=name, values=values)
    _forget_after_commit(session)
    return flag, bool(created)


async def remove_override(session: AsyncSession, *, account_id: uuid.UUID, name: str) -> None:
    """The account goes back to the global default."""
    async with tenant_scope(session, account_id):
        removed = await session.scalar(
            delete(FeatureFlag)
            .where(FeatureFlag.account_id == account_id, FeatureFlag.feature_name == name)
            .returning(FeatureFlag.id)
        )
    if removed is None:
        raise NotFound("this account has no override of this flag", code="override_not_found")
    _forget_after_commit(session)


async def account_features(session: AsyncSession, *, account_id: uuid.UUID) -> list[AccountFeature]:
    """Every flag for one account, read fresh (staff see the truth, not a cache)."""
    await _account_exists(session, account_id)
    async with tenant_scope(session, account_id):
        rows = (await session.execute(select(*FLAG_COLUMNS))).all()
        overrides = {
            flag.feature_name: flag
            for flag in (
                await session.execute(
                    select(FeatureFlag).where(FeatureFlag.account_id == account_id)
                )
            ).scalars()
        }
    effective = effective_features(rows, account_id)
    return [
        AccountFeature(name=name, effective=feature, override=overrides.get(name))
        for name, feature in effective.items()
    ]


async def _upsert(
    session: AsyncSession, *, account_id: uuid.UUID | None, name: str, values: dict[str, Any]
) -> tuple[FeatureFlag, bool]:
    """Insert or replace the (account, name) row; returns it and whether it is new."""
    row: Row[FeatureFlag, bool] = (
        await session.execute(
            insert(FeatureFlag)
            .values(account_id=account_id, feature_name=name, **values)
            .on_conflict_do_update(constraint=ONE_FLAG_PER_ACCOUNT, set_=values)
            .returning(FeatureFlag, literal_column("xmax = 0"))  # xmax 0: inserted, not updated
            .execution_options(populate_existing=True)
        )
    ).one()
    return row[0], bool(row[1])


async def _act_as_staff(session: AsyncSession, admin_user_id: int) -> None:
    await session.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": STAFF_SETTING, "value": str(admin_user_id)},
    )


async def _global_flag(session: AsyncSession, name: str) -> FeatureFlag:
    flag = await session.scalar(
        select(FeatureFlag).where(
            FeatureFlag.account_id.is_(None), FeatureFlag.feature_name == name
        )
    )
    if flag is None:
        raise NotFound("no global flag has this name", code="feature_flag_not_found")
    return flag


async def _account_exists(session: AsyncSession, account_id: uuid.UUID) -> None:
    # the accounts table belongs to identity; the kernel only asks whether the id is live
    found = await session.scalar(
        text("SELECT true FROM accounts WHERE id = :id AND deleted_at IS NULL"),
        {"id": account_id},
    )
    if not found:
        raise NotFound("no such account", code="account_not_found")


def _forget_cached_flags(_: Session) -> None:
    flag_cache.clear()


def _forget_after_commit(session: AsyncSession) -> None:
    """This process drops its cached flags as soon as the change is committed."""
    if not event.contains(session.sync_session, "after_commit", _forget_cached_flags):
        event.listen(session.sync_session, "after_commit", _forget_cached_flags)
