"""The events billing publishes about payments and invoices."""

from __future__ import annotations

import uuid
from typing import ClassVar

from markettina.kernel.events import Event


class PaymentCompleted(Event):
    """A Stripe checkout was paid: its tokens reached the wallet and its invoice was issued."""

    event_type: ClassVar[str] = "payment.completed"
    aggregate_type: ClassVar[str] = "payment"

    payment_id: uuid.UUID
    amount_cents: int
    currency: str
    token_package_id: uuid.UUID | None
    tokens: int
    bonus_tokens: int
    promo_code: str | None
    invoice_id: uuid.UUID
    invoice_number: str


class PaymentRefunded(Event):
    """Money went back to the buyer (a refund, or a dispute's withdrawal): the payment's
    tokens were taken back in proportion, never below zero; ``tokens_shortfall`` is what had
    already been spent. ``credit_note_id`` is the credit note issued for ``amount_cents``."""

    event_type: ClassVar[str] = "payment.refunded"
    aggregate_type: ClassVar[str] = "payment"

    payment_id: uuid.UUID
    reason: str  # refund | dispute
    amount_cents: int  # this time
    amount_reversed_cents: int  # in all, so far
    tokens_taken: int
    tokens_shortfall: int
    credit_note_id: uuid.UUID | None


class InvoiceIssued(Event):
    """An invoice or a credit note (negative amounts, ``credits_invoice_id`` set) was issued."""

    event_type: ClassVar[str] = "invoice.issued"
    aggregate_type: ClassVar[str] = "invoice"

    invoice_id: uuid.UUID
    invoice_number: str
    kind: str  # invoice | credit_note
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    currency: str
    credits_invoice_id: uuid.UUID | None


class InvoiceVoided(Event):
    """Staff voided an invoice; the credit note that cancels it is ``credit_note_id``."""

    event_type: ClassVar[str] = "invoice.voided"
    aggregate_type: ClassVar[str] = "invoice"

    invoice_id: uuid.UUID
    invoice_number: str
    credit_note_id: uuid.UUID
    credit_note_number: str
    reason: str
