"""The events billing publishes about payments and invoices."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import Field

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
    already been spent. ``credit_note_ids`` are the credit notes issued for
    ``amount_cents``: one, or two when it spans the purchase invoice and the invoice that
    billed a won dispute's amount again; ``credit_note_id`` is the first of them."""

    event_type: ClassVar[str] = "payment.refunded"
    aggregate_type: ClassVar[str] = "payment"

    payment_id: uuid.UUID
    reason: str  # refund | dispute
    amount_cents: int  # this time
    amount_reversed_cents: int  # in all, so far
    tokens_taken: int
    tokens_shortfall: int
    credit_note_id: uuid.UUID | None
    credit_note_ids: list[uuid.UUID] = Field(default_factory=list)


class PaymentDisputeReinstated(Event):
    """A dispute was won (or, lost on a payment refunded in part before, Stripe gave back
    the part it had refunded): ``amount_cents`` came back to us. The tokens its withdrawal
    had taken went back to the wallet (``tokens_restored``; those it could not take, because
    they had been spent, are no longer owed: ``tokens_shortfall_cleared``), and the money
    no longer reversed was billed again on ``invoice_id`` (null when nothing was, or the
    purchase had no invoice)."""

    event_type: ClassVar[str] = "payment.dispute_reinstated"
    aggregate_type: ClassVar[str] = "payment"

    payment_id: uuid.UUID
    amount_cents: int  # reinstated by Stripe this time
    amount_reversed_cents: int  # refunded or still disputed, in all, now
    tokens_restored: int
    tokens_shortfall_cleared: int
    invoice_id: uuid.UUID | None


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
