"""Request and response models of service prices, promo codes and referrals."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from markettina.kernel.web.inputs import (
    CalendarDay,
    Flag,
    Int32,
    Omittable,
    RequestModel,
    Timestamp,
)
from markettina.kernel.web.outputs import ResponseModel

ServiceName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,62}$", max_length=63),
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text500 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
PromoCodeText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{3,40}$", max_length=40),
]
PlanName = Literal["free", "starter", "pro", "agency", "enterprise"]
Cents = Annotated[Int32, Field(ge=0, le=100_000_000)]
UseCount = Annotated[Int32, Field(ge=1, le=100_000_000)]
UsesPerAccount = Annotated[Int32, Field(ge=1, le=1000)]
PackageIds = Annotated[list[uuid.UUID], Field(max_length=100)]
PlanNames = Annotated[list[PlanName], Field(max_length=5)]


# --- prices ---------------------------------------------------------------------------------


class PriceOut(ResponseModel):
    service_type: str
    service_subtype: str | None
    token_cost: int
    name: str
    description: str | None
    effective_from: dt.date
    effective_to: dt.date | None = Field(description="The last day of the price; null: open.")


class StaffPriceOut(PriceOut):
    id: uuid.UUID
    is_active: bool
    created_at: dt.datetime


class PriceCreate(RequestModel):
    service_type: ServiceName
    service_subtype: ServiceName | None = None
    token_cost: Annotated[Int32, Field(ge=1, le=1_000_000)]
    name: Label
    description: Text500 | None = None
    effective_from: CalendarDay | None = Field(
        default=None, description="Today (UTC) or later; default today. The price it replaces"
        " ends the day before.",
    )  # fmt: skip


# --- promo codes ----------------------------------------------------------------------------


class PromoValidateIn(RequestModel):
    code: PromoCodeText
    package_id: uuid.UUID | None = None
    amount_cents: Cents = Field(description="The purchase, before discount.")


class PromoDecisionOut(ResponseModel):
    code: str
    applies: bool
    reason: str | None = Field(
        description="Why it does not apply: unknown, inactive, not_yet_valid, expired, exhausted,"
        " already_used_by_account, below_minimum, package_not_applicable, plan_not_applicable."
    )
    message: str | None
    discount_type: str | None
    discount_cents: int
    bonus_tokens: int
    amount_cents: int
    final_amount_cents: int


class _PromoFields(RequestModel):
    max_uses: UseCount | None = Field(default=None, description="null: no limit")
    max_uses_per_user: UsesPerAccount | None = Field(
        default=1, description="Uses per account; null: no limit."
    )
    min_purchase_cents: Cents | None = None
    valid_from: Timestamp | None = None
    valid_to: Timestamp | None = None
    is_active: Flag = True
    applicable_packages: PackageIds = Field(
        default_factory=list, description="Empty: every package."
    )
    applicable_plans: PlanNames = Field(default_factory=list, description="Empty: every plan.")
    description: Text500 | None = None
    internal_notes: Text500 | None = None

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError("valid_from is after valid_to")
        return self


class PromoCodeCreate(_PromoFields):
    code: PromoCodeText
    discount_type: Literal["percent", "fixed_amount", "bonus_tokens"]
    discount_value: Annotated[Int32, Field(ge=1, le=100_000_000)] = Field(
        description="Percent (1-100), cents, or tokens, per type."
    )

    @model_validator(mode="after")
    def _percent(self) -> Self:
        if self.discount_type == "percent" and self.discount_value > 100:
            raise ValueError("a percent discount is at most 100")
        return self


class PromoCodeUpdate(RequestModel):
    """Only what is sent changes (the code, its type and value never do: they are history)."""

    max_uses: UseCount | None = None
    max_uses_per_user: UsesPerAccount | None = None
    min_purchase_cents: Cents | None = None
    valid_from: Timestamp | None = None
    valid_to: Timestamp | None = None
    is_active: Omittable[Flag] = None
    applicable_packages: Omittable[PackageIds] = None
    applicable_plans: Omittable[PlanNames] = None
    description: Text500 | None = None
    internal_notes: Text500 | None = None


class PromoCodeOut(ResponseModel):
    id: uuid.UUID
    code: str
    discount_type: str
    discount_value: int
    max_uses: int | None
    current_uses: int
    max_uses_per_user: int | None
    min_purchase_cents: int | None
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    is_active: bool
    applicable_packages: list[uuid.UUID]
    applicable_plans: list[str]
    description: str | None
    internal_notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


# --- referrals ------------------------------------------------------------------------------


class ReferralOut(ResponseModel):
    id: uuid.UUID
    status: str
    referrer_bonus_tokens: int
    created_at: dt.datetime
    expires_at: dt.datetime
    completed_at: dt.datetime | None


class ReferralOverviewOut(ResponseModel):
    code: str = Field(description="Give it to others: they sign up with `referral_code`.")
    referrer_bonus_tokens: int
    referred_bonus_tokens: int
    referrals: list[ReferralOut] = Field(description="The latest 200, newest first.")
