"""Money a dispute had withdrawn comes back (``charge.dispute.funds_reinstated``: the
dispute was won): the payment's disputed total goes down, the tokens the withdrawal
actually took go back to the wallet — not its shortfall, which the buyer had spent and
never lost — the payment is paid again unless refunds still cover all of it, and the money
no longer reversed is billed again on a new invoice (the withdrawal's credit note stays).

Like reversals, the payment moves to a new cumulative total, so any replay changes
nothing. Which tokens the dispute took the ledger tells: its reversals are the payment's
entries keyed under ``dispute_reversal_prefix``, its restorations those keyed under
``restoration_prefix``; the payment's ``tokens_reversed`` and ``tokens_shortfall`` go back
to what refunds alone account for, so a later refund reverses the right difference.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.events import record

from .invoices import invoices_for_payment, issue_rebill_invoice
from .ledger import credit_tokens, tokens_moved
from .models import Invoice, Payment
from .payment_events import PaymentDisputeReinstated
from .reversals import dispute_reversal_prefix, reversed_cents, tokens_for


async def reinstate_dispute(
    session: AsyncSession, payment: Payment, *, amount_disputed_cents: int
) -> None:
    """Bring the disputed total of ``payment`` (``locked_payment``'s) down to
    ``amount_disputed_cents`` (what the dispute still holds after its reinstatements)."""
    still_disputed = max(min(payment.amount_disputed_cents, amount_disputed_cents), 0)
    reinstated = payment.amount_disputed_cents - still_disputed
    if reinstated <= 0:
        return

    before = reversed_cents(payment)
    payment.amount_disputed_cents = still_disputed
    after = reversed_cents(payment)
    restored, cleared = await _give_tokens_back(session, payment)
    if payment.status == "refunded" and after < payment.amount_cents:
        payment.status = "succeeded"
    invoice = await _bill_again(session, payment, before - after)
    await session.flush()
    await record(
        session,
        PaymentDisputeReinstated(
            payment_id=payment.id, amount_cents=reinstated, amount_reversed_cents=after,
            tokens_restored=restored, tokens_shortfall_cleared=cleared,
            invoice_id=invoice.id if invoice else None,
        ),
        account_id=payment.account_id,
        aggregate_id=payment.id,
    )  # fmt: skip


def restoration_prefix(payment: Payment) -> str:
    return f"stripe:{payment.stripe_payment_intent_id}:dispute_reinstated:"


async def _give_tokens_back(session: AsyncSession, payment: Payment) -> tuple[int, int]:
    """Lower the payment's reversed tokens to what the money still gone back stands for;
    of the tokens released, give back those the dispute took (and has not had back yet),
    and forget the rest: they were the dispute's shortfall. Returns (restored, cleared)."""
    target = tokens_for(payment, reversed_cents(payment))
    released = payment.tokens_reversed - target
    if released <= 0:
        return 0, 0
    taken = -await _moved(session, payment, dispute_reversal_prefix(payment))
    given = await _moved(session, payment, restoration_prefix(payment))
    restored = max(min(released, taken - given), 0)
    if restored:
        await credit_tokens(
            session, account_id=payment.account_id, kind="adjustment", amount=restored,
            reference_type="payment", reference_id=str(payment.id),
            description="Tokens given back: payment dispute won",
            idempotency_key=f"{restoration_prefix(payment)}{target}",
        )  # fmt: skip
    cleared = min(released - restored, payment.tokens_shortfall)
    payment.tokens_reversed = target
    payment.tokens_shortfall -= cleared
    return restored, cleared


async def _moved(session: AsyncSession, payment: Payment, key_prefix: str) -> int:
    return await tokens_moved(
        session, account_id=payment.account_id, reference_type="payment",
        reference_id=str(payment.id), key_prefix=key_prefix,
    )  # fmt: skip


async def _bill_again(session: AsyncSession, payment: Payment, cents: int) -> Invoice | None:
    """An invoice for the money no longer reversed, naming the purchase invoice; none when
    nothing is, or when the purchase had no invoice (payments older than invoices)."""
    if cents <= 0:
        return None
    invoices = await invoices_for_payment(session, payment)
    if not invoices:
        return None
    original = invoices[0]
    return await issue_rebill_invoice(
        session, original=original, gross_cents=cents,
        description=f"Amount disputed on invoice {original.invoice_number}, billed again:"
        " the dispute was won",
        resource_id=str(payment.id), paid_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip
