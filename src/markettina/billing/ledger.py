"""The token ledger: charges, refunds of charges, credits and reversals.

The ledger is append-only and the wallet moves only through it (the 0003 trigger keeps the
balance and totals, and its CHECK refuses an overdraft). Concurrency: every entry updates
the wallet row, so writers of one wallet queue on its lock. A charge locks the wallet and
reads the price in the same statement as its insert, so 200 concurrent charges against a
wallet that can pay for 100 leave exactly 100 entries and the rest get 402. Idempotency
keys are unique per wallet; a keyed write first locks the wallet, so its look-up of the key
(a fresh statement, a fresh snapshot) sees any entry a previous holder committed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import NotFound, ValidationFailed
from markettina.kernel.events import record

from .campaign_budget import CAMPAIGN_CHARGE, why_the_campaign_refused
from .charge_sql import PRICE_AND_LOCKED_WALLET
from .errors import AlreadyRefunded, IdempotencyKeyReused, InsufficientTokens, ServiceNotPriced
from .events import TokensConsumed, TokensGranted, TokensPurchased, TokensRefunded, TokensReversed
from .models import TokenTransaction
from .pricing import price_on
from .schemas.wallet import TokenTransactionOut
from .wallets import LockedWallet, lock_or_create_wallet, lock_wallet

CreditKind = Literal["purchase", "bonus", "adjustment"]

_CHARGE = text(
    PRICE_AND_LOCKED_WALLET
    + """
    INSERT INTO token_transactions
        (account_id, wallet_id, type, amount, service_type, service_subtype,
         reference_type, reference_id, description, idempotency_key)
    SELECT :account_id, wallet.id, 'usage', -(price.token_cost * :quantity), :service_type,
           :service_subtype, :reference_type, :reference_id,
           price.name || CASE WHEN :quantity > 1 THEN ' x ' || :quantity ELSE '' END,
           :idempotency_key
    FROM wallet CROSS JOIN price
    WHERE wallet.balance >= price.token_cost * :quantity
    RETURNING id, amount, balance_after, created_at
    """
)
_INSERT = text(
    "INSERT INTO token_transactions (account_id, wallet_id, type, amount, service_type,"
    " service_subtype, reference_type, reference_id, description, idempotency_key,"
    " campaign_id)"
    " VALUES (:account_id, :wallet_id, :type, :amount, :service_type, :service_subtype,"
    " :reference_type, :reference_id, :description, :idempotency_key, :campaign_id)"
    " RETURNING id, balance_after"
)
_BALANCE = text("SELECT balance FROM token_wallets WHERE account_id = :account_id")
_MOVED = text(
    "SELECT coalesce(sum(amount), 0) FROM token_transactions WHERE account_id = :account_id"
    " AND reference_type = :reference_type AND reference_id = :reference_id"
    " AND starts_with(idempotency_key, :key_prefix)"
)


@dataclass(frozen=True)
class Charge:
    transaction_id: uuid.UUID
    tokens: int  # charged, positive
    balance_after: int
    created_at: dt.datetime
    replayed: bool = False  # the idempotency key named an earlier charge: nothing new was charged


@dataclass(frozen=True)
class Reversal:
    transaction_id: uuid.UUID
    taken: int  # tokens taken back
    shortfall: int  # asked for but already spent (the balance does not go below zero)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


async def charge(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    service_type: str,
    service_subtype: str | None,
    quantity: int = 1,
    reference_type: str | None = None,
    reference_id: str | None = None,
    idempotency_key: str | None = None,
    on: dt.date | None = None,
    campaign_id: uuid.UUID | None = None,
) -> Charge:
    """Charge the price in effect ``on`` (default: today, UTC) times ``quantity`` as one
    usage entry; 402 ``insufficient_tokens`` (with the balance and the price) when short.
    A repeated ``idempotency_key`` returns the first charge and charges nothing.

    With ``campaign_id`` the work is charged to that campaign too: its ``spent_tokens``
    moves with the entry (campaign_budget.py), or nothing is charged at all: 402
    ``campaign_budget_exhausted`` past its budget, 409 ``campaign_not_chargeable`` once it
    is completed or archived, 404 ``campaign_not_found``."""
    if quantity < 1:
        raise ValidationFailed("quantity is at least 1", code="invalid_quantity")
    if idempotency_key is not None or campaign_id is not None:
        # a campaign charge locks the wallet before the campaign, as a refund does
        wallet = await lock_wallet(session, account_id)
        if wallet is not None and idempotency_key is not None:
            earlier = await _entry_with_key(session, wallet, idempotency_key)
            if earlier is not None:
                return _replayed_charge(earlier, campaign_id)
    params: dict[str, Any] = {
        "account_id": account_id, "service_type": service_type,
        "service_subtype": service_subtype, "on": on or today(), "quantity": quantity,
        "reference_type": reference_type, "reference_id": reference_id,
        "idempotency_key": idempotency_key,
    }  # fmt: skip
    if campaign_id is None:
        row = (await session.execute(_CHARGE, params)).first()
    else:
        params["campaign_id"] = campaign_id
        row = (await session.execute(CAMPAIGN_CHARGE, params)).first()
    if row is None:
        raise await _why_not_charged(session, params)
    await record(
        session,
        TokensConsumed(
            transaction_id=row.id, amount=row.amount, balance_after=row.balance_after,
            reference_type=reference_type, reference_id=reference_id,
            service_type=service_type, service_subtype=service_subtype, quantity=quantity,
            campaign_id=campaign_id,
        ),
        account_id=account_id,
        aggregate_id=account_id,
    )  # fmt: skip
    return Charge(
        transaction_id=row.id,
        tokens=-row.amount,
        balance_after=row.balance_after,
        created_at=row.created_at,
    )


async def refund_charge(
    session: AsyncSession, *, account_id: uuid.UUID, transaction_id: uuid.UUID,
    reason: str | None = None,
) -> TokenTransactionOut:  # fmt: skip
    """Give a charge's tokens back, once: a second refund of it is 409 ``already_refunded``.
    A charge made to a campaign gives its tokens back to the campaign's ``spent_tokens``
    too (the refund entry names the campaign; the 0023 trigger moves it)."""
    wallet = await lock_wallet(session, account_id)
    charged = (
        await session.execute(
            select(TokenTransaction).where(
                TokenTransaction.account_id == account_id, TokenTransaction.id == transaction_id
            )
        )
    ).scalar_one_or_none()
    if wallet is None or charged is None:
        raise NotFound("no such charge in this account", code="charge_not_found")
    if charged.type != "usage":
        raise ValidationFailed("only a charge (a usage entry) can be refunded", code="not_a_charge")
    key = f"refund:{transaction_id}"
    if await _entry_with_key(session, wallet, key) is not None:
        raise AlreadyRefunded("this charge has already been refunded")
    description = "Refund of a charge" + (f": {reason}" if reason else "")
    entry = await _append(
        session, account_id=account_id, wallet_id=wallet.id, type="refund",
        amount=-charged.amount, service_type=charged.service_type,
        service_subtype=charged.service_subtype, reference_type="token_transaction",
        reference_id=str(transaction_id), description=description, idempotency_key=key,
        campaign_id=charged.campaign_id,
    )  # fmt: skip
    await record(
        session,
        TokensRefunded(
            transaction_id=entry.id, amount=entry.amount, balance_after=entry.balance_after,
            reference_type=entry.reference_type, reference_id=entry.reference_id,
            refunded_transaction_id=transaction_id, campaign_id=charged.campaign_id,
        ),
        account_id=account_id,
        aggregate_id=account_id,
    )  # fmt: skip
    return TokenTransactionOut.model_validate(entry)


async def credit_tokens(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    kind: CreditKind,
    amount: int,
    reference_type: str,
    reference_id: str,
    description: str,
    idempotency_key: str,
) -> uuid.UUID:
    """Add a purchase, a bonus or an adjustment (which alone may be negative, never past
    zero) to the wallet, creating it if needed. A repeated key returns the first entry."""
    if kind not in ("purchase", "bonus", "adjustment"):
        raise ValidationFailed(f"cannot credit tokens as {kind!r}", code="invalid_credit_kind")
    if amount <= 0 and not (kind == "adjustment" and amount != 0):
        raise ValidationFailed("the amount must be positive", code="invalid_amount")
    wallet = await lock_or_create_wallet(session, account_id)
    earlier = await _entry_with_key(session, wallet, idempotency_key)
    if earlier is not None:
        if earlier.type != kind:
            raise IdempotencyKeyReused(f"the key {idempotency_key!r} names a {earlier.type} entry")
        return earlier.id
    if wallet.balance + amount < 0:
        raise InsufficientTokens(balance=wallet.balance, price=-amount)
    entry = await _append(
        session, account_id=account_id, wallet_id=wallet.id, type=kind, amount=amount,
        reference_type=reference_type, reference_id=reference_id, description=description,
        idempotency_key=idempotency_key,
    )  # fmt: skip
    event: TokensPurchased | TokensGranted
    if kind == "purchase":
        event = TokensPurchased(
            transaction_id=entry.id, amount=amount, balance_after=entry.balance_after,
            reference_type=reference_type, reference_id=reference_id,
        )  # fmt: skip
    else:
        event = TokensGranted(
            transaction_id=entry.id, amount=amount, balance_after=entry.balance_after,
            reference_type=reference_type, reference_id=reference_id, kind=kind,
        )  # fmt: skip
    await record(session, event, account_id=account_id, aggregate_id=account_id)
    return entry.id


async def reverse_tokens(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    amount: int,
    reference_type: str,
    reference_id: str,
    description: str,
    idempotency_key: str,
) -> Reversal:
    """Take back up to ``amount`` tokens (a refunded or disputed payment) as a refund
    entry, never below zero; what was already spent is the shortfall. The entry is written
    even when nothing can be taken, so a replay of the key never takes tokens bought since."""
    if amount <= 0:
        raise ValidationFailed("the amount must be positive", code="invalid_amount")
    wallet = await lock_or_create_wallet(session, account_id)
    earlier = await _entry_with_key(session, wallet, idempotency_key)
    if earlier is not None:
        if earlier.type != "refund":
            raise IdempotencyKeyReused(f"the key {idempotency_key!r} names a {earlier.type} entry")
        taken = -earlier.amount
        return Reversal(transaction_id=earlier.id, taken=taken, shortfall=max(amount - taken, 0))
    taken = min(amount, wallet.balance)
    shortfall = amount - taken
    if shortfall:
        description = f"{description} ({shortfall} tokens already spent)"
    entry = await _append(
        session, account_id=account_id, wallet_id=wallet.id, type="refund", amount=-taken,
        reference_type=reference_type, reference_id=reference_id, description=description,
        idempotency_key=idempotency_key,
    )  # fmt: skip
    await record(
        session,
        TokensReversed(
            transaction_id=entry.id, amount=-taken, balance_after=entry.balance_after,
            reference_type=reference_type, reference_id=reference_id, shortfall=shortfall,
        ),
        account_id=account_id,
        aggregate_id=account_id,
    )  # fmt: skip
    return Reversal(transaction_id=entry.id, taken=taken, shortfall=shortfall)


async def tokens_moved(
    session: AsyncSession, *, account_id: uuid.UUID, reference_type: str, reference_id: str,
    key_prefix: str,
) -> int:  # fmt: skip
    """The signed sum of the entries about one thing whose keys start with ``key_prefix``
    (what one kind of movement did to the wallet: a dispute's reversals, say)."""
    params = {
        "account_id": account_id, "reference_type": reference_type,
        "reference_id": reference_id, "key_prefix": key_prefix,
    }  # fmt: skip
    return int((await session.execute(_MOVED, params)).scalar_one())


# --- the parts ------------------------------------------------------------------------------


async def _append(session: AsyncSession, **values: Any) -> TokenTransaction:
    """One ledger entry (the trigger fills balance_after), returned as written."""
    columns = ("service_type", "service_subtype", "reference_type", "reference_id", "campaign_id")
    params = {c: None for c in columns} | values
    row = (await session.execute(_INSERT, params)).one()
    return (
        await session.execute(
            select(TokenTransaction).where(
                TokenTransaction.account_id == values["account_id"], TokenTransaction.id == row.id
            )
        )
    ).scalar_one()


async def _entry_with_key(
    session: AsyncSession, wallet: LockedWallet, key: str
) -> TokenTransaction | None:
    return (
        await session.execute(
            select(TokenTransaction).where(
                TokenTransaction.wallet_id == wallet.id, TokenTransaction.idempotency_key == key
            )
        )
    ).scalar_one_or_none()


def _replayed_charge(earlier: TokenTransaction, campaign_id: uuid.UUID | None) -> Charge:
    if earlier.type != "usage":
        raise IdempotencyKeyReused(
            f"the key {earlier.idempotency_key!r} names a {earlier.type} entry"
        )
    if earlier.campaign_id != campaign_id:
        raise IdempotencyKeyReused(
            f"the key {earlier.idempotency_key!r} names a charge to another campaign"
        )
    return Charge(
        transaction_id=earlier.id,
        tokens=-earlier.amount,
        balance_after=earlier.balance_after,
        created_at=earlier.created_at,
        replayed=True,
    )


async def _why_not_charged(session: AsyncSession, params: dict[str, Any]) -> Exception:
    """Nothing was inserted: either no price is in effect or the wallet is short."""
    price = await price_on(
        session, service_type=params["service_type"],
        service_subtype=params["service_subtype"], on=params["on"],
    )  # fmt: skip
    if price is None:
        return ServiceNotPriced(params["service_type"], params["service_subtype"])
    if params.get("campaign_id") is not None:
        refused = await why_the_campaign_refused(
            session, params, price.token_cost * params["quantity"]
        )
        if refused is not None:
            return refused
    balance = (await session.execute(_BALANCE, {"account_id": params["account_id"]})).scalar()
    return InsufficientTokens(
        balance=balance or 0,
        price=price.token_cost * params["quantity"],
        service_type=params["service_type"],
    )
