"""A/B variants of a post or an e-mail campaign: made (inactive, no traffic), changed,
removed, given their traffic split all at once, counted (impressions, clicks,
conversions, atomically), analysed, and ended by a winner only a significant
two-proportion z-test may declare (``ab_statistics``).

The split rule: the active variants of a parent get traffic summing to exactly 100, or
there are none. A new variant is inactive with 0 %; ``set_split`` activates the variants
it lists with their percentages (summing to 100) and deactivates the others, under a
lock on the parent's variants, so no reader ever sees a half-set split. A variant that
takes part in the split is not deleted (set a split without it first). Declaring a winner
gives it all the traffic and deactivates the others; the test has then ended (no new
variant, no new split). A parent has at most 20 variants, added one at a time under a
lock on the parent's row.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import Conflict, FieldError, ValidationFailed
from markettina.kernel.events import record
from markettina.kernel.web.inputs import INT32_MAX

from . import ab_statistics
from .errors import (
    TrafficSplitInvalid,
    VariantNotFound,
    VariantParentNotFound,
    WinnerAlreadyDeclared,
    WinnerNotSignificant,
)
from .events import VariantWinnerDeclared
from .models import ContentVariant, EmailCampaign, ScheduledPost
from .schemas.variants import TrafficSplit, VariantCounts, VariantCreate, VariantUpdate

HUNDRED = Decimal(100)
MAX_VARIANTS_PER_PARENT = 20  # as many as one split may list


async def check_parent(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    parent_type: str,
    parent_id: str,
    field: str = "body.parent_content_id",
    lock: bool = False,
) -> str:
    """The parent's id in its canonical text; 404 naming ``field`` when the account has
    no such (undeleted) post or e-mail campaign. ``lock`` holds the parent's row until
    the transaction ends (variants of one parent are then added one at a time)."""
    model: type[ScheduledPost] | type[EmailCampaign]
    key: int | uuid.UUID
    try:
        if parent_type == "post":
            model, key = ScheduledPost, int(parent_id)
            if not 0 < key <= INT32_MAX:
                raise ValueError(parent_id)
        else:
            model, key = EmailCampaign, uuid.UUID(parent_id)
    except ValueError:
        raise VariantParentNotFound(parent_type, parent_id, field=field) from None
    query = select(model.id).where(
        model.account_id == account_id, model.id == key, model.deleted_at.is_(None)
    )
    found = await session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise VariantParentNotFound(parent_type, parent_id, field=field)
    return str(key)


async def create_variant(
    session: AsyncSession, *, account_id: uuid.UUID, fields: VariantCreate
) -> ContentVariant:
    parent_id = await check_parent(
        session,
        account_id=account_id,
        parent_type=fields.parent_content_type,
        parent_id=fields.parent_content_id,
        lock=True,
    )
    existing = await _of_parent(session, account_id, fields.parent_content_type, parent_id)
    if len(existing) >= MAX_VARIANTS_PER_PARENT:
        raise Conflict(
            f"a post or e-mail campaign has at most {MAX_VARIANTS_PER_PARENT} variants",
            code="too_many_variants",
        )
    if any(v.is_winner for v in existing):
        raise WinnerAlreadyDeclared("this test has ended: it already has a winner")
    variant = ContentVariant(
        account_id=account_id,
        parent_content_type=fields.parent_content_type,
        parent_content_id=parent_id,
        variant_name=fields.variant_name,
        variant_content=fields.variant_content,
        traffic_percent=Decimal(0),
        is_active=False,
    )
    session.add(variant)
    await session.flush()
    await session.refresh(variant)
    return variant


async def list_variants(
    session: AsyncSession, *, account_id: uuid.UUID, parent_type: str, parent_id: str
) -> list[ContentVariant]:
    """The parent's variants, oldest first (a test has a handful)."""
    canonical = await check_parent(
        session,
        account_id=account_id,
        parent_type=parent_type,
        parent_id=parent_id,
        field="query.parent_content_id",
    )
    return await _of_parent(session, account_id, parent_type, canonical)


async def _of_parent(
    session: AsyncSession,
    account_id: uuid.UUID,
    parent_type: str,
    parent_id: str,
    *,
    lock: bool = False,
    refresh: bool = False,
) -> list[ContentVariant]:
    """The parent's variants, oldest first; ``lock`` holds their rows, ``refresh`` reads
    them again over what the session holds (after a bulk UPDATE)."""
    query = (
        select(ContentVariant)
        .where(
            ContentVariant.account_id == account_id,
            ContentVariant.parent_content_type == parent_type,
            ContentVariant.parent_content_id == parent_id,
        )
        .order_by(ContentVariant.created_at, ContentVariant.id)
    )
    if lock:
        query = query.with_for_update()
    if refresh:
        query = query.execution_options(populate_existing=True)
    return list((await session.execute(query)).scalars())


async def get_variant(
    session: AsyncSession, *, account_id: uuid.UUID, variant_id: uuid.UUID
) -> ContentVariant:
    variant = await session.scalar(
        select(ContentVariant).where(
            ContentVariant.account_id == account_id, ContentVariant.id == variant_id
        )
    )
    if variant is None:
        raise VariantNotFound("no such variant")
    return variant


async def update_variant(
    session: AsyncSession, *, account_id: uuid.UUID, variant_id: uuid.UUID, fields: VariantUpdate
) -> ContentVariant:
    variant = await get_variant(session, account_id=account_id, variant_id=variant_id)
    changes = fields.model_dump(exclude_unset=True)
    if not changes:
        return variant
    updated = (
        await session.execute(
            update(ContentVariant)
            .where(ContentVariant.account_id == account_id, ContentVariant.id == variant.id)
            .values(**changes)
            .returning(ContentVariant)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one()
    return updated


async def delete_variant(
    session: AsyncSession, *, account_id: uuid.UUID, variant_id: uuid.UUID
) -> None:
    variant = await get_variant(session, account_id=account_id, variant_id=variant_id)
    siblings = await _of_parent(
        session, account_id, variant.parent_content_type, variant.parent_content_id, lock=True
    )
    mine = next(v for v in siblings if v.id == variant.id)
    if mine.is_active and mine.traffic_percent > 0:
        raise Conflict(
            "the variant takes part in the traffic split; set a split without it first",
            code="variant_in_split",
        )
    await session.delete(mine)
    await session.flush()


async def set_split(
    session: AsyncSession, *, account_id: uuid.UUID, split: TrafficSplit
) -> list[ContentVariant]:
    """Make the listed variants the parent's active ones with these percentages, the
    others inactive with 0 %, all at once."""
    parent_id = await check_parent(
        session,
        account_id=account_id,
        parent_type=split.parent_content_type,
        parent_id=split.parent_content_id,
    )
    variants = await _of_parent(
        session, account_id, split.parent_content_type, parent_id, lock=True
    )
    if any(v.is_winner for v in variants):
        raise WinnerAlreadyDeclared("this test has ended: it already has a winner")
    known = {v.id for v in variants}
    errors: list[FieldError] = []
    seen: set[uuid.UUID] = set()
    for index, share in enumerate(split.split):
        where = f"body.split.{index}.variant_id"
        if share.variant_id in seen:
            errors.append(FieldError(where, "listed twice", "duplicate"))
        elif share.variant_id not in known:
            errors.append(FieldError(where, "not a variant of this parent", "not_found"))
        seen.add(share.variant_id)
    total = sum((share.traffic_percent for share in split.split), Decimal(0))
    if total != HUNDRED:
        errors.append(
            FieldError(
                "body.split", f"the percentages sum to {total}, not 100", "traffic_split_invalid"
            )
        )
    if errors:
        raise TrafficSplitInvalid("the traffic split is not valid", errors=errors)
    percent = {share.variant_id: share.traffic_percent for share in split.split}
    for variant in variants:
        await session.execute(
            update(ContentVariant)
            .where(ContentVariant.account_id == account_id, ContentVariant.id == variant.id)
            .values(
                traffic_percent=percent.get(variant.id, Decimal(0)), is_active=variant.id in percent
            )
            .execution_options(synchronize_session=False)
        )
    return await _of_parent(session, account_id, split.parent_content_type, parent_id, refresh=True)


async def record_counts(
    session: AsyncSession, *, account_id: uuid.UUID, variant_id: uuid.UUID, counts: VariantCounts
) -> ContentVariant:
    """Add ``counts`` to the variant's counters in one statement (concurrent calls each
    add theirs; none is lost)."""
    await get_variant(session, account_id=account_id, variant_id=variant_id)
    if not (counts.impressions or counts.clicks or counts.conversions):
        raise ValidationFailed(
            "nothing to count",
            errors=[FieldError("body.impressions", "send at least one count above 0", "empty")],
        )
    updated = (
        await session.execute(
            update(ContentVariant)
            .where(
                ContentVariant.account_id == account_id,
                ContentVariant.id == variant_id,
                ContentVariant.impressions <= INT32_MAX - counts.impressions,
                ContentVariant.clicks <= INT32_MAX - counts.clicks,
                ContentVariant.conversions <= INT32_MAX - counts.conversions,
            )
            .values(
                impressions=ContentVariant.impressions + counts.impressions,
                clicks=ContentVariant.clicks + counts.clicks,
                conversions=ContentVariant.conversions + counts.conversions,
            )
            .returning(ContentVariant)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one_or_none()
    if updated is None:
        raise Conflict("a counter would pass its largest value", code="counter_overflow")
    return updated


def _arms(variants: list[ContentVariant], metric: str) -> list[ab_statistics.Arm]:
    """The test's arms: the variants that are active or were shown."""
    return [
        ab_statistics.Arm(
            v.id,
            v.variant_name,
            v.impressions,
            v.conversions if metric == "conversions" else v.clicks,
        )
        for v in variants
        if v.is_active or v.impressions > 0
    ]


async def analyse(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    parent_type: str,
    parent_id: str,
    metric: str,
    level: float,
) -> ab_statistics.Analysis:
    variants = await list_variants(
        session, account_id=account_id, parent_type=parent_type, parent_id=parent_id
    )
    return ab_statistics.analyse(_arms(variants, metric), metric=metric, level=level)


async def declare_winner(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    variant_id: uuid.UUID,
    metric: str,
    level: float,
) -> tuple[ContentVariant, ab_statistics.Analysis]:
    """Declare ``variant_id`` the winner of its test if the z-test says it beats every
    other arm (409 with the statistics otherwise); it then takes all the traffic."""
    variant = await get_variant(session, account_id=account_id, variant_id=variant_id)
    parent_type, parent_id = variant.parent_content_type, variant.parent_content_id
    siblings = await _of_parent(session, account_id, parent_type, parent_id, lock=True)
    if any(v.is_winner for v in siblings):
        raise WinnerAlreadyDeclared("this test already has a winner")
    arms = _arms(siblings, metric)
    if all(arm.variant_id != variant_id for arm in arms):
        arms.append(
            ab_statistics.Arm(
                variant.id,
                variant.variant_name,
                variant.impressions,
                variant.conversions if metric == "conversions" else variant.clicks,
            )
        )
    analysis = ab_statistics.analyse(arms, metric=metric, level=level, candidate=variant_id)
    if not analysis.significant:
        raise WinnerNotSignificant(f"no winner: {analysis.reason}", analysis_payload(analysis))
    for sibling in siblings:
        await session.execute(
            update(ContentVariant)
            .where(ContentVariant.account_id == account_id, ContentVariant.id == sibling.id)
            .values(
                is_winner=sibling.id == variant_id,
                is_active=sibling.id == variant_id,
                traffic_percent=HUNDRED if sibling.id == variant_id else Decimal(0),
            )
            .execution_options(synchronize_session=False)
        )
    winner = next(a for a in analysis.arms if a.variant_id == variant_id)
    await record(
        session,
        VariantWinnerDeclared(
            variant_id=variant_id,
            parent_content_type=parent_type,
            parent_content_id=parent_id,
            metric=metric,
            level=level,
            impressions=winner.n,
            successes=winner.successes,
            rate=winner.rate,
            p_values=[c.p_value for c in analysis.comparisons if c.p_value is not None],
        ),
        account_id=account_id,
        aggregate_id=variant_id,
    )
    refreshed = await get_variant_fresh(session, account_id=account_id, variant_id=variant_id)
    return refreshed, analysis


async def get_variant_fresh(
    session: AsyncSession, *, account_id: uuid.UUID, variant_id: uuid.UUID
) -> ContentVariant:
    variant = await session.scalar(
        select(ContentVariant)
        .where(ContentVariant.account_id == account_id, ContentVariant.id == variant_id)
        .execution_options(populate_existing=True)
    )
    assert variant is not None
    return variant


def analysis_payload(analysis: ab_statistics.Analysis) -> dict[str, Any]:
    """The analysis as JSON (the problem document of a refused winner carries it)."""
    return {
        "metric": analysis.metric,
        "level": analysis.level,
        "comparison_level": analysis.comparison_level,
        "arms": [
            {
                "variant_id": str(a.variant_id),
                "name": a.name,
                "n": a.n,
                "successes": a.successes,
                "rate": a.rate,
            }
            for a in analysis.arms
        ],
        "candidate": None if analysis.candidate is None else str(analysis.candidate),
        "comparisons": [
            {
                "against": str(c.against),
                "pooled_rate": c.pooled_rate,
                "standard_error": c.standard_error,
                "z": c.z,
                "p_value": c.p_value,
                "sample_ok": c.sample_ok,
                "significant": c.significant,
                "reason": c.reason,
            }
            for c in analysis.comparisons
        ],
        "decision": analysis.decision,
        "reason": analysis.reason,
    }
