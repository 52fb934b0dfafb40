"""The account's one token wallet: found, created at zero, locked, read.

Every ledger entry moves the wallet row (the 0003 trigger updates it), so every writer of
the ledger queues on that row lock; taking it first (``lock_wallet``) makes a check-then-
append sequence safe against concurrent writers of the same wallet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from .models import TokenWallet

# the app may insert only these columns: balances belong to the ledger's trigger
_CREATE = text(
    "INSERT INTO token_wallets (account_id) VALUES (:account_id)"
    " ON CONFLICT (account_id) DO NOTHING"
)
_LOCK = text("SELECT id, balance FROM token_wallets WHERE account_id = :account_id FOR UPDATE")


@dataclass(frozen=True)
class LockedWallet:
    id: uuid.UUID
    balance: int


async def lock_wallet(session: AsyncSession, account_id: uuid.UUID) -> LockedWallet | None:
    """The account's wallet, locked until the transaction ends (None if it has none)."""
    row = (await session.execute(_LOCK, {"account_id": account_id})).first()
    return None if row is None else LockedWallet(id=row.id, balance=row.balance)


async def lock_or_create_wallet(session: AsyncSession, account_id: uuid.UUID) -> LockedWallet:
    """The account's wallet, locked; created at zero first if it has none yet."""
    wallet = await lock_wallet(session, account_id)
    if wallet is None:
        await session.execute(_CREATE, {"account_id": account_id})
        wallet = await lock_wallet(session, account_id)
        assert wallet is not None
    return wallet


async def wallet_of(session: AsyncSession, account_id: uuid.UUID) -> TokenWallet | None:
    return (
        await session.execute(select(TokenWallet).where(TokenWallet.account_id == account_id))
    ).scalar_one_or_none()
