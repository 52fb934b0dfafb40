"""The start every charge statement shares: the price in effect ``:on`` for the service,
and the account's wallet, locked. The plain charge (ledger.py) and the charge against a
campaign's budget (campaign_budget.py) go on from here, so both price work the same way."""

from __future__ import annotations

PRICE_AND_LOCKED_WALLET = """
    WITH price AS (
        SELECT token_cost, name FROM service_pricing
        WHERE service_type = :service_type
          AND service_subtype IS NOT DISTINCT FROM CAST(:service_subtype AS text)
          AND is_active AND effective_from <= :on
          AND (effective_to IS NULL OR effective_to >= :on)
    ), wallet AS (
        SELECT id, balance FROM token_wallets WHERE account_id = :account_id FOR UPDATE
    )
"""
