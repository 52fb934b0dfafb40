"""Charges against a campaign's token budget (``charge(..., campaign_id=...)``).

The charge is still one statement: it locks the wallet and the campaign row, reads the
price, and inserts the usage entry only when the wallet can pay and the campaign's budget
can take it (``spent_tokens + price <= budget_tokens``; no budget, no limit). The entry
names the campaign, and the ``apply_campaign_charge`` trigger (revision 0023) moves
``campaigns.spent_tokens`` by its amount inside that same insert, so the ledger and the
spent tokens are one write: a charge refused is refused whole, and nothing else moves
``spent_tokens`` (the application has no privilege on the column). The refund of such a
charge names the campaign too, and the trigger gives its tokens back to the campaign.

Lock order: the ledger locks the wallet first (its own statement) and the campaign in the
charge, as a refund locks the wallet before its insert touches the campaign; a campaign's
edit locks only the campaign. Under the campaign's lock a budget lowered meanwhile is seen
(READ COMMITTED re-reads a row it waited for), and the row's CHECK is the last word.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .charge_sql import PRICE_AND_LOCKED_WALLET
from .errors import CampaignBudgetExhausted, CampaignNotChargeable, CampaignNotFound

# the statuses a campaign takes work in
CHARGEABLE = ("planning", "active", "paused")

CAMPAIGN_CHARGE = text(
    PRICE_AND_LOCKED_WALLET
    + """
    , campaign AS (
        SELECT c.id FROM campaigns c CROSS JOIN price
        WHERE c.account_id = :account_id AND c.id = :campaign_id AND c.deleted_at IS NULL
          AND c.status IN ('planning', 'active', 'paused')
          AND (c.budget_tokens IS NULL
               OR c.spent_tokens + price.token_cost * :quantity <= c.budget_tokens)
        FOR UPDATE OF c
    )
    INSERT INTO token_transactions
        (account_id, wallet_id, type, amount, service_type, service_subtype,
         reference_type, reference_id, description, idempotency_key, campaign_id)
    SELECT :account_id, wallet.id, 'usage', -(price.token_cost * :quantity), :service_type,
           :service_subtype, :reference_type, :reference_id,
           price.name || CASE WHEN :quantity > 1 THEN ' x ' || :quantity ELSE '' END,
           :idempotency_key, campaign.id
    FROM wallet CROSS JOIN price CROSS JOIN campaign
    WHERE wallet.balance >= price.token_cost * :quantity
    RETURNING id, amount, balance_after, created_at
    """
)

_CAMPAIGN = text(
    "SELECT status, budget_tokens, spent_tokens FROM campaigns"
    " WHERE account_id = :account_id AND id = :campaign_id AND deleted_at IS NULL"
)


async def why_the_campaign_refused(
    session: AsyncSession, params: dict[str, Any], price: int
) -> Exception | None:
    """Why the campaign could not take a charge of ``price`` tokens (None: it could, so the
    wallet was short)."""
    found = (
        await session.execute(
            _CAMPAIGN, {"account_id": params["account_id"], "campaign_id": params["campaign_id"]}
        )
    ).first()
    if found is None:
        return CampaignNotFound("no such campaign in this account")
    if found.status not in CHARGEABLE:
        return CampaignNotChargeable(found.status)
    budget = found.budget_tokens
    if budget is not None and found.spent_tokens + price > budget:
        return CampaignBudgetExhausted(budget=budget, spent=found.spent_tokens, price=price)
    return None
