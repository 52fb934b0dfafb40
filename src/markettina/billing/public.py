"""What other contexts may use from billing: charging work, crediting and taking back
tokens, promo codes and referrals. Every function runs in the caller's transaction, as the
acting tenant, and never commits."""

from __future__ import annotations

from .errors import (
    AlreadyRefunded,
    CampaignBudgetExhausted,
    CampaignNotChargeable,
    CampaignNotFound,
    IdempotencyKeyReused,
    InsufficientTokens,
    InvalidReferralCode,
    ServiceNotPriced,
)
from .ledger import (
    Charge,
    CreditKind,
    Reversal,
    charge,
    credit_tokens,
    refund_charge,
    reverse_tokens,
)
from .pricing import price_on
from .promo_codes import PromoCodeRefused, PromoDecision, discount_of, evaluate_promo, redeem_promo
from .referrals import complete_referral_on_first_purchase, register_referral
from .schemas.wallet import TokenTransactionOut

__all__ = [
    "AlreadyRefunded", "CampaignBudgetExhausted", "CampaignNotChargeable", "CampaignNotFound",
    "Charge", "CreditKind", "IdempotencyKeyReused", "InsufficientTokens",
    "InvalidReferralCode", "PromoCodeRefused", "PromoDecision", "Reversal", "ServiceNotPriced",
    "TokenTransactionOut", "charge", "complete_referral_on_first_purchase", "credit_tokens",
    "discount_of", "evaluate_promo", "price_on", "redeem_promo", "refund_charge",
    "register_referral", "reverse_tokens",
]  # fmt: skip
