"""Request and response models of packages, checkout, billing details and invoices."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from markettina.kernel.web.inputs import Email, Flag, Int32, Omittable, RequestModel
from markettina.kernel.web.outputs import ResponseModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", max_length=3)]
StripePrice = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Detail = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
VatId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
TokenCount = Annotated[Int32, Field(ge=1, le=100_000_000)]
BonusTokens = Annotated[Int32, Field(ge=0, le=100_000_000)]
PriceCents = Annotated[Int32, Field(ge=1, le=100_000_000)]
SortOrder = Annotated[Int32, Field(ge=-10_000, le=10_000)]


# --- packages -------------------------------------------------------------------------------


class PackageOut(ResponseModel):
    id: uuid.UUID
    name: str
    tokens: int
    bonus_tokens: int
    price_cents: int = Field(description="What the buyer pays, VAT included.")
    currency: str


class StaffPackageOut(PackageOut):
    stripe_price_id: str | None
    is_active: bool
    sort_order: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PackageCreate(RequestModel):
    name: Name
    tokens: TokenCount
    bonus_tokens: BonusTokens = 0
    price_cents: PriceCents = Field(description="VAT included.")
    currency: Currency = "EUR"
    stripe_price_id: StripePrice | None = Field(
        default=None, description="The Stripe price charged; without one, the amount is sent."
    )
    is_active: Flag = True
    sort_order: SortOrder = 0


class PackageUpdate(RequestModel):
    """Only the fields sent change (`stripe_price_id: null` removes the Stripe price)."""

    name: Omittable[Name] = None
    tokens: Omittable[TokenCount] = None
    bonus_tokens: Omittable[BonusTokens] = None
    price_cents: Omittable[PriceCents] = None
    currency: Omittable[Currency] = None
    stripe_price_id: StripePrice | None = None
    is_active: Omittable[Flag] = None
    sort_order: Omittable[SortOrder] = None


# --- checkout -------------------------------------------------------------------------------


class CheckoutIn(RequestModel):
    package_id: uuid.UUID
    promo_code: Code | None = None


class CheckoutOut(BaseModel):
    url: str = Field(description="Send the buyer here to pay (Stripe Checkout).")
    session_id: str


class WebhookAck(BaseModel):
    received: bool = True
    outcome: str = Field(description="processed | ignored (a type not handled) | duplicate")


# --- billing details ------------------------------------------------------------------------


class BillingDetailsIn(RequestModel):
    """Replaces every field: one not sent is cleared."""

    name: Detail | None = None
    email: Email | None = None
    vat_id: VatId | None = None
    address: Detail | None = None


class BillingDetailsOut(ResponseModel):
    name: str | None = None
    email: str | None = None
    vat_id: str | None = None
    address: str | None = None


# --- invoices -------------------------------------------------------------------------------


class InvoiceItemOut(ResponseModel):
    id: uuid.UUID
    description: str
    quantity: int
    unit_price_cents: int = Field(description="Net of VAT.")
    total_cents: int
    service_type: str | None
    resource_id: str | None


class InvoiceOut(ResponseModel):
    id: uuid.UUID
    invoice_number: str
    kind: str = Field(description="invoice | credit_note (negative amounts)")
    credits_invoice_id: uuid.UUID | None = Field(description="The invoice a credit note credits.")
    status: str = Field(description="issued | paid | void | refunded (credit notes: issued)")
    subtotal_cents: int
    tax_rate: Decimal | None = Field(description="The VAT rate applied, as a fraction.")
    tax_cents: int
    total_cents: int
    currency: str
    issue_date: dt.date
    due_date: dt.date | None
    paid_at: dt.datetime | None
    payment_method: str | None
    billing_name: str | None
    billing_email: str | None
    billing_address: str | None
    billing_vat_id: str | None
    pdf_url: str | None
    created_at: dt.datetime
    items: list[InvoiceItemOut]


class VoidIn(RequestModel):
    reason: Reason


class VoidOut(BaseModel):
    invoice: InvoiceOut
    credit_note: InvoiceOut
