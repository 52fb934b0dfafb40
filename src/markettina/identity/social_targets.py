"""Which of an account's social accounts can be published to: for the contexts that
schedule content on them (through ``identity.public``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import SocialAccount


async def publishable_social_accounts(
    session: AsyncSession, *, account_id: uuid.UUID, social_account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The platform of each of ``social_account_ids`` that belongs to ``account_id``, is
    connected (not disconnected) and active; the others are left out of the answer."""
    if not social_account_ids:
        return {}
    rows = await session.execute(
        select(SocialAccount.id, SocialAccount.platform).where(
            SocialAccount.account_id == account_id,
            SocialAccount.id.in_(set(social_account_ids)),
            SocialAccount.deleted_at.is_(None),
            SocialAccount.is_active,
        )
    )
    return {row.id: row.platform for row in rows}
