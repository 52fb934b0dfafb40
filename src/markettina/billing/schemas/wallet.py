"""Response models of the wallet, its ledger and monthly usage."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from markettina.kernel.web.outputs import ResponseModel


class TokenTransactionOut(ResponseModel):
    """One ledger entry: ``amount`` is signed (a charge is negative)."""

    id: uuid.UUID
    type: str = Field(description="purchase | usage | bonus | refund | adjustment")
    amount: int
    balance_after: int
    service_type: str | None
    service_subtype: str | None
    reference_type: str | None
    reference_id: str | None
    description: str | None
    campaign_id: uuid.UUID | None = Field(
        default=None, description="The campaign the charge (or its refund) was for."
    )
    created_at: dt.datetime


class WalletOut(ResponseModel):
    balance: int
    total_purchased: int
    total_used: int
    total_bonus: int
    total_refunded: int
    last_purchase_at: dt.datetime | None
    last_usage_at: dt.datetime | None


class MonthlyUsageOut(BaseModel):
    month: dt.date = Field(description="The first day of the month (UTC).")
    service_type: str
    tokens: int = Field(description="Tokens charged, less the charges refunded.")
    charges: int = Field(description="Charges made (refunded ones included).")


class UsageOut(BaseModel):
    months: int
    usage: list[MonthlyUsageOut]
