"""Billing: token wallets and ledger, packages, pricing, Stripe, invoices, promos, referrals."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CHAR,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from markettina.kernel.db.base import Base
from markettina.kernel.db.columns import (
    NEW_UUID,
    NOW,
    Audited,
    Created,
    SoftDeleted,
    TenantScoped,
    Versioned,
    one_of,
    tenant_fk,
)

# --- v1 tables, in their v2 form -------------------------------------------------------------


class TokenWallet(TenantScoped, Audited, Base):
    """One per account; balance and totals are kept by trigger from the ledger."""

    __tablename__ = "token_wallets"
    __table_args__ = (
        UniqueConstraint("account_id"),
        CheckConstraint("balance >= 0", name="balance_non_negative"),
        CheckConstraint(
            "total_purchased >= 0 AND total_used >= 0 AND total_bonus >= 0 AND total_refunded >= 0",
            name="totals_non_negative",
        ),
        # v1's unique (user_id) indexed this FK; it is gone now that the wallet is per account
        Index("ix_token_wallets_user_id", "user_id"),
    )

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    balance: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    total_purchased: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    total_used: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    total_bonus: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    total_refunded: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_purchase_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_usage_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    transactions: Mapped[list[TokenTransaction]] = relationship(
        back_populates="wallet", lazy="raise", overlaps="wallet"
    )


class TokenTransaction(TenantScoped, Created, Base):
    """Append-only ledger: amount is signed (usage negative)."""

    __tablename__ = "token_transactions"
    __table_args__ = (
        tenant_fk(["wallet_id"], "token_wallets", ondelete="CASCADE"),
        # the campaign a charge (and its refund) was for; campaigns are soft-deleted
        tenant_fk(["campaign_id"], "campaigns"),
        one_of("type", ("purchase", "usage", "bonus", "refund", "adjustment")),
        CheckConstraint("balance_after >= 0", name="balance_after_non_negative"),
        # replaces v1's (wallet_id, created_at), as for customer_interactions
        Index(
            "ix_token_transactions_account_id_wallet_id_created_at",
            "account_id",
            "wallet_id",
            "created_at",
        ),
        Index(
            "uq_token_transactions_wallet_id_idempotency_key",
            "wallet_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        Index(
            "ix_token_transactions_account_id_campaign_id",
            "account_id",
            "campaign_id",
            postgresql_where=text("campaign_id IS NOT NULL"),
        ),
    )

    wallet_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    type: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    service_type: Mapped[str | None] = mapped_column(Text)
    service_subtype: Mapped[str | None] = mapped_column(Text)
    reference_type: Mapped[str | None] = mapped_column(Text)
    reference_id: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    # moves campaigns.spent_tokens through the 0023 trigger
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    wallet: Mapped[TokenWallet] = relationship(
        back_populates="transactions", lazy="raise", overlaps="transactions"
    )


class TokenPackage(Audited, Base):
    """The catalogue of token packages on sale (global)."""

    __tablename__ = "token_packages"
    __table_args__ = (
        CheckConstraint("tokens > 0", name="tokens_positive"),
        CheckConstraint("bonus_tokens >= 0", name="bonus_tokens_non_negative"),
        CheckConstraint("price_cents >= 0", name="price_non_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    name: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(Integer)
    bonus_tokens: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(CHAR(3), server_default=text("'EUR'"))
    stripe_price_id: Mapped[str | None] = mapped_column(Text, unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    sort_order: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class Subscription(TenantScoped, Audited, Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        one_of("status", ("active", "trialing", "past_due", "cancelled", "incomplete")),
        CheckConstraint("current_period_start <= current_period_end", name="period"),
        Index("ix_subscriptions_user_id", "user_id"),
        Index("ix_subscriptions_stripe_customer_id", "stripe_customer_id"),
        Index(
            "ix_subscriptions_account_id_status_created_at", "account_id", "status", "created_at"
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    plan: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    stripe_customer_id: Mapped[str | None] = mapped_column(Text)
    stripe_subscription_id: Mapped[str | None] = mapped_column(Text, unique=True)
    current_period_start: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Payment(TenantScoped, Audited, Base):
    __tablename__ = "payments"
    __table_args__ = (
        one_of("status", ("pending", "succeeded", "failed", "refunded")),
        CheckConstraint("amount_cents >= 0", name="amount_non_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        CheckConstraint("tokens_purchased >= 0", name="tokens_purchased_non_negative"),
        CheckConstraint(
            "bonus_tokens >= 0 AND tokens_reversed >= 0 AND tokens_shortfall >= 0"
            " AND tokens_shortfall <= tokens_reversed",
            name="token_counts_non_negative",
        ),
        CheckConstraint(
            "amount_refunded_cents >= 0 AND amount_disputed_cents >= 0",
            name="reversals_non_negative",
        ),
        Index("ix_payments_user_id", "user_id"),
        Index("ix_payments_token_package_id", "token_package_id"),
        Index("ix_payments_account_id_status_created_at", "account_id", "status", "created_at"),
    )

    # NULL when the checkout was started by an API key rather than a person
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(Text, unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(Text, unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(CHAR(3), server_default=text("'EUR'"))
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    token_package_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("token_packages.id", ondelete="SET NULL")
    )
    tokens_purchased: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # package bonus + promo bonus tokens credited with the purchase (reversed with it)
    bonus_tokens: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # cumulative, as Stripe reports them; tokens reversed include those the wallet lacked
    amount_refunded_cents: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    amount_disputed_cents: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    tokens_reversed: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    tokens_shortfall: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    promo_code: Mapped[str | None] = mapped_column(Text)


class UsageRecord(TenantScoped, Base):
    """Metering, one row per billable use; keeps v1's recorded_at instead of audit columns."""

    __tablename__ = "usage_records"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        CheckConstraint("tokens_used >= 0", name="tokens_used_non_negative"),
        Index("ix_usage_records_user_id_recorded_at", "user_id", "recorded_at"),
        Index("ix_usage_records_account_id_recorded_at", "account_id", "recorded_at"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    service_type: Mapped[str] = mapped_column(Text)
    service_subtype: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    tokens_used: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    # "metadata" is reserved on declarative classes
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )


# --- v2: pricing, invoices, promotions, referrals, Stripe ------------------------------------


class ServicePricing(Audited, Base):
    """Token cost of each billable service, by validity period (seeded by the migration)."""

    __tablename__ = "service_pricing"
    __table_args__ = (
        UniqueConstraint(
            "service_type",
            "service_subtype",
            "effective_from",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint("token_cost > 0", name="token_cost_positive"),
        CheckConstraint("effective_from <= effective_to", name="effective_period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    service_type: Mapped[str] = mapped_column(Text)
    service_subtype: Mapped[str | None] = mapped_column(Text)
    token_cost: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    effective_from: Mapped[dt.date] = mapped_column(Date, server_default=text("CURRENT_DATE"))
    effective_to: Mapped[dt.date | None] = mapped_column(Date)


class Invoice(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("invoice_number"),
        one_of("status", ("draft", "issued", "paid", "void", "refunded")),
        CheckConstraint("total_cents = subtotal_cents + tax_cents", name="total"),
        one_of("kind", ("invoice", "credit_note")),
        # an invoice's amounts are positive; a credit note's negative, and it names what it credits
        CheckConstraint(
            "(kind = 'invoice' AND subtotal_cents >= 0 AND tax_cents >= 0)"
            " OR (kind = 'credit_note' AND subtotal_cents <= 0 AND tax_cents <= 0"
            " AND credits_invoice_id IS NOT NULL)",
            name="amounts_by_kind",
        ),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 1", name="tax_rate_fraction"),
        tenant_fk(["credits_invoice_id"], "invoices", ondelete="RESTRICT"),
        Index("ix_invoices_account_id_credits_invoice_id", "account_id", "credits_invoice_id"),
        Index("ix_invoices_account_id_payment_intent_id", "account_id", "payment_intent_id"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        CheckConstraint("issue_date <= due_date", name="due_after_issue"),
        CheckConstraint(
            "status NOT IN ('paid', 'refunded') OR paid_at IS NOT NULL", name="paid_at_when_paid"
        ),
        Index("ix_invoices_account_id_status_created_at", "account_id", "status", "created_at"),
    )

    invoice_number: Mapped[str] = mapped_column(Text)
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    # NOT NULL: a NULL tax would let the total CHECK pass unchecked
    tax_cents: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    total_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(CHAR(3), server_default=text("'EUR'"))
    status: Mapped[str] = mapped_column(Text, server_default=text("'draft'"))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    payment_method: Mapped[str | None] = mapped_column(Text)
    payment_intent_id: Mapped[str | None] = mapped_column(Text)
    billing_name: Mapped[str | None] = mapped_column(Text)
    billing_email: Mapped[str | None] = mapped_column(Text)
    billing_address: Mapped[str | None] = mapped_column(Text)
    billing_vat_id: Mapped[str | None] = mapped_column(Text)
    pdf_url: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, server_default=text("'invoice'"))
    credits_invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # the VAT rate the amounts were computed with (a fraction: 0.2200)
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))

    items: Mapped[list[InvoiceItem]] = relationship(
        back_populates="invoice", lazy="raise", overlaps="invoice"
    )


class InvoiceItem(TenantScoped, Audited, Base):
    __tablename__ = "invoice_items"
    __table_args__ = (
        tenant_fk(["invoice_id"], "invoices", ondelete="CASCADE"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("total_cents = quantity * unit_price_cents", name="total"),
        Index("ix_invoice_items_account_id_invoice_id", "account_id", "invoice_id"),
    )

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # may be negative: a discount is a line of its own
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    service_type: Mapped[str | None] = mapped_column(Text)
    # text, like token_transactions.reference_id: billed resources have uuid or integer ids
    resource_id: Mapped[str | None] = mapped_column(Text)

    invoice: Mapped[Invoice] = relationship(back_populates="items", lazy="raise", overlaps="items")


class PromoCode(Audited, Base):
    """discount_value is a percentage, an amount in cents or a number of tokens, per type."""

    __tablename__ = "promo_codes"
    __table_args__ = (
        Index("uq_promo_codes_code", func.lower(text("code")), unique=True),
        one_of("discount_type", ("percent", "fixed_amount", "bonus_tokens")),
        CheckConstraint("discount_value > 0", name="discount_value_positive"),
        CheckConstraint(
            "discount_type <> 'percent' OR discount_value <= 100", name="percent_at_most_100"
        ),
        CheckConstraint("max_uses > 0", name="max_uses_positive"),
        CheckConstraint("current_uses >= 0", name="current_uses_non_negative"),
        CheckConstraint("current_uses <= max_uses", name="current_uses_within_max"),
        CheckConstraint("max_uses_per_user > 0", name="max_uses_per_user_positive"),
        CheckConstraint("min_purchase_cents >= 0", name="min_purchase_non_negative"),
        CheckConstraint("valid_from <= valid_to", name="valid_period"),
        Index("ix_promo_codes_created_by", "created_by"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    code: Mapped[str] = mapped_column(Text)
    discount_type: Mapped[str] = mapped_column(Text)
    discount_value: Mapped[int] = mapped_column(Integer)
    # NULL means unlimited
    max_uses: Mapped[int | None] = mapped_column(Integer)
    current_uses: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    max_uses_per_user: Mapped[int | None] = mapped_column(Integer, server_default=text("1"))
    min_purchase_cents: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # empty means every package / every plan
    applicable_packages: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid), server_default=text("'{}'")
    )
    applicable_plans: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    description: Mapped[str | None] = mapped_column(Text)
    internal_notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PromoRedemption(TenantScoped, Created, Base):
    __tablename__ = "promo_redemptions"
    __table_args__ = (
        UniqueConstraint("promo_code_id", "account_id", "transaction_id"),
        tenant_fk(["transaction_id"], "token_transactions", ondelete="SET NULL (transaction_id)"),
        CheckConstraint("discount_amount >= 0", name="discount_amount_non_negative"),
        Index("ix_promo_redemptions_account_id_transaction_id", "account_id", "transaction_id"),
        Index("ix_promo_redemptions_user_id", "user_id"),
    )

    # a promo code with redemptions is deactivated, never deleted
    promo_code_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("promo_codes.id", ondelete="RESTRICT")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # in the promo's unit: cents for percent / fixed_amount, tokens for bonus_tokens
    discount_amount: Mapped[int] = mapped_column(Integer)
    redeemed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class ReferralProgram(Audited, Base):
    """One referral: global, because it ties two accounts together."""

    __tablename__ = "referral_program"
    __table_args__ = (
        one_of("status", ("pending", "completed", "expired", "cancelled")),
        CheckConstraint(
            "referrer_bonus_tokens >= 0 AND referred_bonus_tokens >= 0",
            name="bonus_tokens_non_negative",
        ),
        CheckConstraint("referred_account_id <> referrer_account_id", name="not_self_referral"),
        CheckConstraint(
            "status <> 'completed'"
            " OR (completed_at IS NOT NULL AND referred_account_id IS NOT NULL)",
            name="completed_has_referred",
        ),
        Index("ix_referral_program_referrer_account_id", "referrer_account_id"),
        # an account is referred once (0012; it replaced the plain index)
        Index("uq_referral_program_referred_account_id", "referred_account_id", unique=True),
        Index("ix_referral_program_referrer_user_id", "referrer_user_id"),
        Index("ix_referral_program_referred_user_id", "referred_user_id"),
        # the code the referred account signed up with: an account's code refers many (0012)
        Index("ix_referral_program_referral_code", "referral_code"),
        # the expiry sweep
        Index(
            "ix_referral_program_pending_expires_at",
            "expires_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    referrer_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE")
    )
    referrer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    referral_code: Mapped[str] = mapped_column(Text)
    referred_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    referred_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    referrer_bonus_tokens: Mapped[int] = mapped_column(Integer, server_default=text("100"))
    referred_bonus_tokens: Mapped[int] = mapped_column(Integer, server_default=text("50"))
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now() + interval '30 days'")
    )


class InvoiceCounter(Base):
    """The last invoice number of each calendar year: locked by each issue, so numbers are
    gap-free and a rolled-back purchase gives its number back (global: numbers are)."""

    __tablename__ = "invoice_counters"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_non_negative"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class BillingDetails(Audited, Base):
    """What an account wants on its invoices; copied onto each invoice when it is issued."""

    __tablename__ = "billing_details"

    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    vat_id: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)


class ReferralCode(TenantScoped, Created, Base):
    """The account's own referral code, made on first use; sign-up finds its owner through
    ``billing_referral_code_owner`` (the table is a tenant table, the look-up crosses them)."""

    __tablename__ = "referral_codes"
    __table_args__ = (UniqueConstraint("account_id"), UniqueConstraint("code"))

    code: Mapped[str] = mapped_column(Text)


class StripeEvent(Base):
    """Each Stripe webhook event once: inserting its id first makes handling idempotent."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    type: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
