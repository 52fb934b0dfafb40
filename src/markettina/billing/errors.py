"""The billing context's refusals, each with its HTTP status and stable code."""

from __future__ import annotations

from markettina.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    PaymentRequired,
    ValidationFailed,
)


class InsufficientTokens(PaymentRequired):
    """402: the wallet cannot pay for the work; the problem document carries the balance
    and the price so a client can say how many tokens are missing."""

    code = "insufficient_tokens"

    def __init__(self, *, balance: int, price: int, service_type: str | None = None) -> None:
        super().__init__(f"this needs {price} tokens and the wallet holds {balance}")
        self.balance = balance
        self.price = price
        self.extensions = {"balance": balance, "price": price, "service_type": service_type}


class ServiceNotPriced(ValidationFailed):
    code = "service_not_priced"

    def __init__(self, service_type: str, service_subtype: str | None) -> None:
        name = service_type if service_subtype is None else f"{service_type}/{service_subtype}"
        super().__init__(
            f"no price is in effect for {name}",
            errors=[FieldError("service_type", "no price in effect", "service_not_priced")],
        )


class AlreadyRefunded(Conflict):
    code = "already_refunded"


class IdempotencyKeyReused(Conflict):
    """The key names a ledger entry of another kind than the one asked for now."""

    code = "idempotency_key_reused"


class InvalidReferralCode(ValidationFailed):
    code = "invalid_referral_code"

    def __init__(self, message: str, *, field: str = "body.referral_code") -> None:
        super().__init__(message, errors=[FieldError(field, message, "invalid_referral_code")])


# --- charges against a campaign's token budget -------------------------------------------


class CampaignBudgetExhausted(PaymentRequired):
    """402: the campaign's token budget cannot take this charge; the problem document
    carries the budget, what is spent and the price."""

    code = "campaign_budget_exhausted"

    def __init__(self, *, budget: int, spent: int, price: int) -> None:
        super().__init__(
            f"this needs {price} tokens and the campaign has {budget - spent} of its "
            f"budget of {budget} left"
        )
        self.extensions = {"budget_tokens": budget, "spent_tokens": spent, "price": price}


class CampaignNotChargeable(Conflict):
    """409: the campaign is completed or archived: no more work is charged to it."""

    code = "campaign_not_chargeable"

    def __init__(self, status: str) -> None:
        super().__init__(f"the campaign is {status}: no work can be charged to it")
        self.extensions = {"status": status}


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
