"""What the wallet holds and how it was spent: the ledger page by page (newest first) and
monthly usage per service type."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.keyset import newest_first
from markettina.kernel.pagination import Page, page_of

from .models import TokenTransaction, TokenWallet
from .schemas.wallet import MonthlyUsageOut, WalletOut

_EMPTY_WALLET = WalletOut(
    balance=0, total_purchased=0, total_used=0, total_bonus=0, total_refunded=0,
    last_purchase_at=None, last_usage_at=None,
)  # fmt: skip

# usage rows and the refunds of charges (they carry the charge's service type), per month;
# a refund counts in the month it was made
_MONTHLY = text(
    """
    SELECT date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month, service_type,
           -sum(amount)::int AS tokens, count(*) FILTER (WHERE type = 'usage')::int AS charges
    FROM token_transactions
    WHERE account_id = :account_id AND type IN ('usage', 'refund') AND service_type IS NOT NULL
      AND created_at >= :since
    GROUP BY 1, 2
    ORDER BY 1 DESC, 2
    """
)


async def wallet_view(session: AsyncSession, *, account_id: uuid.UUID) -> WalletOut:
    wallet = (
        await session.execute(select(TokenWallet).where(TokenWallet.account_id == account_id))
    ).scalar_one_or_none()
    return _EMPTY_WALLET if wallet is None else WalletOut.model_validate(wallet)


async def ledger_page(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    type: str | None,
    service_type: str | None,
    limit: int,
    cursor: str | None,
) -> Page[TokenTransaction]:
    statement = select(TokenTransaction).where(TokenTransaction.account_id == account_id)
    if type is not None:
        statement = statement.where(TokenTransaction.type == type)
    if service_type is not None:
        statement = statement.where(TokenTransaction.service_type == service_type)
    statement = newest_first(
        statement, at=TokenTransaction.created_at, id_=TokenTransaction.id, limit=limit,
        cursor=cursor,
    )  # fmt: skip
    rows = list((await session.execute(statement)).scalars())
    return page_of(rows, limit, lambda t: (t.created_at.isoformat(), t.id))


def first_month(months: int, today: dt.date) -> dt.date:
    """The first day of the month ``months - 1`` months before ``today``'s."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


async def monthly_usage(
    session: AsyncSession, *, account_id: uuid.UUID, months: int, today: dt.date
) -> list[MonthlyUsageOut]:
    since = dt.datetime.combine(first_month(months, today), dt.time(), tzinfo=dt.UTC)
    rows = await session.execute(_MONTHLY, {"account_id": account_id, "since": since})
    return [
        MonthlyUsageOut(
            month=r.month, service_type=r.service_type, tokens=r.tokens, charges=r.charges
        )
        for r in rows
    ]
