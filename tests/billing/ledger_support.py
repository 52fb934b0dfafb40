"""Accounts, wallets and ledger sums for the ledger tests, made through the app role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.billing.public import credit_tokens
from markettina.kernel.db.tenant import enter_tenant


async def new_wallet(session: AsyncSession, *, tokens: int = 0) -> uuid.UUID:
    """A new account (now the session's tenant) with a wallet holding ``tokens``."""
    slug = f"acct-{uuid.uuid4().hex[:10]}"
    account_id = (
        await session.execute(
            text("INSERT INTO accounts (name, slug) VALUES (:s, :s) RETURNING id"), {"s": slug}
        )
    ).scalar_one()
    await enter_tenant(session, account_id)
    await session.execute(
        text("INSERT INTO token_wallets (account_id) VALUES (:a)"), {"a": account_id}
    )
    if tokens:
        await credit_tokens(
            session, account_id=account_id, kind="purchase", amount=tokens,
            reference_type="test", reference_id="seed", description="seed",
            idempotency_key=f"seed-{uuid.uuid4()}",
        )  # fmt: skip
    return account_id


@dataclass(frozen=True)
class WalletState:
    balance: int
    total_purchased: int
    total_used: int
    total_bonus: int
    total_refunded: int
    ledger_sum: int
    by_type: dict[str, int]
    refunded_abs: int
    min_balance_after: int | None


async def wallet_state(session: AsyncSession, account_id: uuid.UUID) -> WalletState:
    wallet = (
        await session.execute(
            text(
                "SELECT balance, total_purchased, total_used, total_bonus, total_refunded"
                " FROM token_wallets WHERE account_id = :a"
            ),
            {"a": account_id},
        )
    ).one()
    rows = (
        await session.execute(
            text(
                "SELECT type, sum(amount)::int, sum(abs(amount))::int, min(balance_after)"
                " FROM token_transactions WHERE account_id = :a GROUP BY type"
            ),
            {"a": account_id},
        )
    ).all()
    by_type = {r[0]: r[1] for r in rows}
    refunded_abs = sum(r[2] for r in rows if r[0] == "refund")
    minimum = min((r[3] for r in rows), default=None)
    return WalletState(
        *wallet, ledger_sum=sum(by_type.values()), by_type=by_type, refunded_abs=refunded_abs,
        min_balance_after=minimum,
    )  # fmt: skip
