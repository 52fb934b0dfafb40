"""The social accounts a post is published to (``scheduled_post_targets``), checked
through identity: each must be one of the account's connected, active social accounts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import publishable_social_accounts
from markettina.kernel.errors import FieldError, ValidationFailed

from .models import ScheduledPostTarget

MAX_TARGETS = 50
_FIELD = "body.social_account_ids"


async def checked_platforms(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    social_account_ids: Sequence[uuid.UUID],
    publishable: Mapping[uuid.UUID, str] | None = None,
) -> dict[uuid.UUID, str]:
    """The platform of each chosen social account; 422 naming the field when one is not a
    connected, active social account of this account (or none, or too many, are chosen).
    ``publishable``: what ``publishable_among`` read for a set holding these (one read for
    many posts), else they are read here."""
    chosen = list(dict.fromkeys(social_account_ids))
    if not chosen:
        raise ValidationFailed(
            "choose at least one social account to publish to",
            errors=[FieldError(_FIELD, "empty", "empty")],
        )
    if len(chosen) > MAX_TARGETS:
        raise ValidationFailed(
            f"a post goes to at most {MAX_TARGETS} social accounts",
            errors=[FieldError(_FIELD, f"more than {MAX_TARGETS}", "too_many")],
        )
    found = publishable
    if found is None:
        found = await publishable_social_accounts(
            session, account_id=account_id, social_account_ids=chosen
        )
    unknown = [str(one) for one in chosen if one not in found]
    if unknown:
        raise ValidationFailed(
            "not connected, active social accounts of this account: " + ", ".join(unknown),
            errors=[FieldError(_FIELD, "unknown or inactive social account", "unknown")],
        )
    return {one: found[one] for one in chosen}


async def publishable_among(
    session: AsyncSession, *, account_id: uuid.UUID, social_account_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The platform of each of ``social_account_ids`` that is a connected, active social
    account of this account, read once for the posts of a bulk write (import, series)."""
    return await publishable_social_accounts(
        session, account_id=account_id, social_account_ids=list(set(social_account_ids))
    )


async def replace_targets(
    session: AsyncSession, *, account_id: uuid.UUID, post_id: int,
    social_account_ids: Sequence[uuid.UUID],
) -> None:  # fmt: skip
    """Make the post's targets exactly ``social_account_ids``: one statement, the delete
    of the others a CTE of the insert (disjoint rows, so one snapshot serves both)."""
    others = (
        delete(ScheduledPostTarget)
        .where(
            ScheduledPostTarget.account_id == account_id,
            ScheduledPostTarget.post_id == post_id,
            ScheduledPostTarget.social_account_id.not_in(social_account_ids),
        )
        .cte("others")
    )
    await session.execute(
        insert(ScheduledPostTarget)
        .add_cte(others)
        .values(
            [
                {"account_id": account_id, "post_id": post_id, "social_account_id": one}
                for one in social_account_ids
            ]
        )
        .on_conflict_do_nothing()
    )


async def target_ids(
    session: AsyncSession, *, account_id: uuid.UUID, post_id: int
) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(ScheduledPostTarget.social_account_id)
        .where(ScheduledPostTarget.account_id == account_id, ScheduledPostTarget.post_id == post_id)
        .order_by(ScheduledPostTarget.created_at, ScheduledPostTarget.social_account_id)
    )
    return list(rows)
