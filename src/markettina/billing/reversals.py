"""Money that goes back to the buyer — a refund (``charge.refunded``) or a lost dispute's
withdrawal (``charge.dispute.funds_withdrawn``) — takes the payment's tokens back in
proportion, never below zero (what was spent already is the shortfall, kept on the
payment and in the event), and is credited on the invoice by a credit note.

Stripe reports cumulative amounts (a charge's ``amount_refunded``; a charge has at most
one dispute), so each event moves the payment to a new total and only the difference is
reversed: any replay or repetition of a total changes nothing. A dispute's reversals have
keys of their own (``dispute_reversal_prefix``), so the ledger tells which tokens the
dispute took when a won dispute gives them back (see dispute_reinstatements).
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.events import record

from .invoices import credited_cents, invoices_for_payment, issue_credit_note
from .ledger import reverse_tokens
from .models import Invoice, Payment
from .payment_events import PaymentRefunded

Reason = Literal["refund", "dispute"]

_ACCOUNT_OF = text("SELECT billing_payment_account(:payment_intent_id)")


async def reverse_payment(
    session: AsyncSession,
    payment: Payment,
    *,
    reason: Reason,
    amount_refunded_cents: int | None = None,
    amount_disputed_cents: int | None = None,
) -> None:
    """Bring ``payment`` (``locked_payment``'s) to the new refunded or disputed total."""
    before = reversed_cents(payment)
    if amount_refunded_cents is not None:
        payment.amount_refunded_cents = max(payment.amount_refunded_cents, amount_refunded_cents)
    if amount_disputed_cents is not None:
        payment.amount_disputed_cents = max(payment.amount_disputed_cents, amount_disputed_cents)
    now_reversed = reversed_cents(payment)
    if now_reversed <= before:
        await session.flush()
        return

    taken, shortfall = await _take_tokens_back(session, payment, now_reversed, reason)
    if now_reversed >= payment.amount_cents:
        payment.status = "refunded"
    notes = await _credit(session, payment, now_reversed - before, reason)
    await session.flush()
    await record(
        session,
        PaymentRefunded(
            payment_id=payment.id, reason=reason, amount_cents=now_reversed - before,
            amount_reversed_cents=now_reversed, tokens_taken=taken, tokens_shortfall=shortfall,
            credit_note_id=notes[0].id if notes else None,
            credit_note_ids=[note.id for note in notes],
        ),
        account_id=payment.account_id,
        aggregate_id=payment.id,
    )  # fmt: skip


async def payment_account(session: AsyncSession, payment_intent_id: str) -> uuid.UUID | None:
    """The account that a Stripe payment intent paid for; None if it is not ours."""
    return (
        await session.execute(_ACCOUNT_OF, {"payment_intent_id": payment_intent_id})
    ).scalar_one_or_none()


async def locked_payment(
    session: AsyncSession, account_id: uuid.UUID, payment_intent_id: str
) -> Payment:
    """The payment of a Stripe payment intent, locked (run as its account, see
    ``payment_account``)."""
    return (
        await session.execute(
            select(Payment)
            .where(
                Payment.account_id == account_id,
                Payment.stripe_payment_intent_id == payment_intent_id,
            )
            .with_for_update()
        )
    ).scalar_one()


def reversed_cents(payment: Payment) -> int:
    """The money gone back so far: refunded plus still disputed, at most what was paid."""
    return min(payment.amount_cents, payment.amount_refunded_cents + payment.amount_disputed_cents)


def tokens_for(payment: Payment, cents: int) -> int:
    """The payment's tokens that ``cents`` of it stand for (rounded down: the buyer keeps a
    fraction of a token), counted on totals so partial amounts add up exactly."""
    granted = payment.tokens_purchased + payment.bonus_tokens
    return granted * cents // payment.amount_cents if payment.amount_cents else 0


def dispute_reversal_prefix(payment: Payment) -> str:
    return f"stripe:{payment.stripe_payment_intent_id}:dispute:"


async def _take_tokens_back(
    session: AsyncSession, payment: Payment, cents: int, reason: Reason
) -> tuple[int, int]:
    target = tokens_for(payment, cents)
    due = target - payment.tokens_reversed
    if due <= 0:
        return 0, 0
    # a refund's keys never meet the dispute's: after a won dispute hands its tokens back,
    # a refund reaching the dispute's old total is a new reversal, not a replay of it
    prefix = (
        dispute_reversal_prefix(payment)
        if reason == "dispute"
        else f"stripe:{payment.stripe_payment_intent_id}:reversal:"
    )
    reversal = await reverse_tokens(
        session, account_id=payment.account_id, amount=due, reference_type="payment",
        reference_id=str(payment.id), description=f"Tokens taken back: payment {reason}",
        idempotency_key=f"{prefix}{target}",
    )  # fmt: skip
    payment.tokens_reversed = target
    payment.tokens_shortfall += reversal.shortfall
    return reversal.taken, reversal.shortfall


async def _credit(
    session: AsyncSession, payment: Payment, cents: int, reason: Reason
) -> list[Invoice]:
    """Credit notes for ``cents``, oldest invoice of the payment first, each for at most
    what its invoice has not credited yet; an invoice is refunded once nothing is left."""
    invoices = await invoices_for_payment(session, payment)
    label = "refunded" if reason == "refund" else "disputed and withdrawn"
    notes: list[Invoice] = []
    for invoice in invoices:
        remaining = invoice.total_cents - await credited_cents(session, invoice)
        amount = min(cents, remaining)
        if amount <= 0:
            continue
        reason_text = f"{amount / 100:.2f} {invoice.currency} {label}"
        notes.append(
            await issue_credit_note(
                session, original=invoice, gross_cents=amount, reason=reason_text
            )
        )
        if amount == remaining and invoice.status == "paid":
            invoice.status = "refunded"
        cents -= amount
        if cents <= 0:
            break
    return notes
