"""Which features an account has: the global default, the account's override, the rollout.

    if await feature_flags.is_enabled(session, "ai_images", account_id): ...

Reads go through the process's cache; the session must be scoped to ``account_id`` (row-level
security shows it the global rows and that account's overrides only).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.tenant import current_tenant
from ..models import FeatureFlag
from .cache import Feature, Features, flag_cache
from .rollout import in_rollout


class FlagRow(Protocol):
    @property
    def account_id(self) -> uuid.UUID | None: ...
    @property
    def feature_name(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def rollout_percent(self) -> int: ...


FLAG_COLUMNS = (
    FeatureFlag.account_id,
    FeatureFlag.feature_name,
    FeatureFlag.enabled,
    FeatureFlag.config,
    FeatureFlag.rollout_percent,
)


def effective_features(rows: Iterable[FlagRow], account_id: uuid.UUID) -> dict[str, Feature]:
    """An override decides for its account; otherwise an enabled default holds for the
    accounts inside its rollout. Config is the default's, with the override's keys on top."""
    defaults: dict[str, FlagRow] = {}
    overrides: dict[str, FlagRow] = {}
    for row in rows:
        if row.account_id is None:
            defaults[row.feature_name] = row
        elif row.account_id == account_id:
            overrides[row.feature_name] = row
    features: dict[str, Feature] = {}
    for name in sorted(defaults.keys() | overrides.keys()):
        default, override = defaults.get(name), overrides.get(name)
        config = {**(default.config if default else {}), **(override.config if override else {})}
        if override is not None:
            enabled = override.enabled
        else:
            assert default is not None
            enabled = default.enabled and in_rollout(name, account_id, default.rollout_percent)
        features[name] = Feature(enabled=enabled, config=config)
    return features


async def read_features(session: AsyncSession, account_id: uuid.UUID) -> dict[str, Feature]:
    """Straight from the database, no cache."""
    rows = await session.execute(
        select(*FLAG_COLUMNS).where(
            or_(FeatureFlag.account_id.is_(None), FeatureFlag.account_id == account_id)
        )
    )
    return effective_features(rows.all(), account_id)


async def features_for(session: AsyncSession, account_id: uuid.UUID) -> Features:
    """Every flag the platform knows, as it applies to ``account_id`` (cached)."""
    cached = flag_cache.get(account_id)
    if cached is not None:
        return cached
    generation = flag_cache.generation
    if await current_tenant(session) != account_id:
        # the overrides would be invisible and the account would get the defaults, cached
        raise RuntimeError("features_for needs a session scoped to the account it asks about")
    features = await read_features(session, account_id)
    flag_cache.put(account_id, features, generation=generation)
    return features


async def is_enabled(session: AsyncSession, feature_name: str, account_id: uuid.UUID) -> bool:
    """An unknown flag is off."""
    feature = (await features_for(session, account_id)).get(feature_name)
    return feature is not None and feature.enabled
