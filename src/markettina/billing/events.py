"""The events billing publishes (one per ledger entry, and per referral completed)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import Field

from markettina.kernel.events import Event


class _LedgerEvent(Event):
    aggregate_type: ClassVar[str] = "token_wallet"

    transaction_id: uuid.UUID
    amount: int  # signed, as in the ledger
    balance_after: int
    reference_type: str | None
    reference_id: str | None


class TokensConsumed(_LedgerEvent):
    """Tokens were charged for a piece of work."""

    event_type: ClassVar[str] = "tokens.consumed"

    service_type: str
    service_subtype: str | None
    quantity: int
    campaign_id: uuid.UUID | None = Field(
        default=None, description="The campaign the work was charged to, if any."
    )


class TokensPurchased(_LedgerEvent):
    """Bought tokens reached the wallet."""

    event_type: ClassVar[str] = "tokens.purchased"


class TokensGranted(_LedgerEvent):
    """Bonus tokens (a promotion, a referral) or an adjustment (by staff, or the tokens a
    won dispute gives back) reached the wallet."""

    event_type: ClassVar[str] = "tokens.granted"

    kind: str  # bonus | adjustment


class TokensRefunded(_LedgerEvent):
    """A charge was reversed: its tokens went back to the wallet."""

    event_type: ClassVar[str] = "tokens.refunded"

    refunded_transaction_id: uuid.UUID
    campaign_id: uuid.UUID | None = Field(
        default=None, description="The campaign the charge was made to (its tokens went back)."
    )


class TokensReversed(_LedgerEvent):
    """Tokens were taken back (a refunded or disputed payment), never below zero;
    ``shortfall`` is what could not be taken because it had been spent."""

    event_type: ClassVar[str] = "tokens.reversed"

    shortfall: int


class ReferralCompleted(Event):
    """A referred account made its first purchase: both accounts got their bonus."""

    event_type: ClassVar[str] = "referral.completed"
    aggregate_type: ClassVar[str] = "referral"

    referral_id: uuid.UUID
    referrer_account_id: uuid.UUID
    referred_account_id: uuid.UUID
    referrer_bonus_tokens: int
    referred_bonus_tokens: int
