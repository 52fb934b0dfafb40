"""How many bytes of media an account may keep, and how many it keeps.

The quota follows the account's plan (``accounts.plan_tier``, the setting
MEDIA_QUOTA_BYTES_BY_PLAN, MEDIA_QUOTA_BYTES_DEFAULT for a plan it does not name); staff
give one account another through the feature flag ``media_storage_quota``, enabled, with
``{"quota_bytes": N}`` in its config. What counts is the originals' sizes of the assets
not deleted (thumbnails are the service's own and do not count)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.feature_flags import features_for

from .errors import MediaQuotaExceeded
from .models import MediaAsset

QUOTA_FLAG = "media_storage_quota"

_PLAN = text("SELECT plan_tier FROM accounts WHERE id = :account_id")
# one upload of an account at a time past the quota check: two cannot both fit the last bytes
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('media_quota:' || :account_id))")


@dataclass(frozen=True)
class QuotaRules:
    by_plan: Mapping[str, int]
    default: int


@dataclass(frozen=True)
class StorageUse:
    used_bytes: int
    asset_count: int
    quota_bytes: int


async def quota_of(session: AsyncSession, *, account_id: uuid.UUID, rules: QuotaRules) -> int:
    feature = (await features_for(session, account_id)).get(QUOTA_FLAG)
    if feature is not None and feature.enabled:
        override = feature.config.get("quota_bytes")
        if isinstance(override, int) and not isinstance(override, bool) and override >= 0:
            return override
    plan = (await session.execute(_PLAN, {"account_id": account_id})).scalar_one_or_none()
    return rules.by_plan.get(plan or "", rules.default)


async def storage_use(
    session: AsyncSession, *, account_id: uuid.UUID, rules: QuotaRules
) -> StorageUse:
    used, count = (
        await session.execute(
            select(func.coalesce(func.sum(MediaAsset.file_size_bytes), 0), func.count()).where(
                MediaAsset.account_id == account_id, MediaAsset.deleted_at.is_(None)
            )
        )
    ).one()
    quota = await quota_of(session, account_id=account_id, rules=rules)
    return StorageUse(used_bytes=int(used), asset_count=int(count), quota_bytes=quota)


async def claim_space(
    session: AsyncSession, *, account_id: uuid.UUID, size: int, rules: QuotaRules
) -> None:
    """Hold the account's quota until the transaction ends, and refuse (413) a file that
    does not fit in it."""
    await session.execute(_LOCK, {"account_id": str(account_id)})
    use = await storage_use(session, account_id=account_id, rules=rules)
    if use.used_bytes + size > use.quota_bytes:
        raise MediaQuotaExceeded(used=use.used_bytes, quota=use.quota_bytes, size=size)
