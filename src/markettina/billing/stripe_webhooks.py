"""Stripe webhooks: verified, stored, then processed exactly once.

The event is stored first, in a transaction of its own (insert ... on conflict do nothing:
a redelivery stores nothing new), so an event whose processing fails stays on record,
unprocessed, until Stripe delivers it again. Processing runs in the caller's transaction,
which locks the stored row first (concurrent deliveries of one event queue there), skips
an event already processed, and marks it processed together with everything it changed.

Handled: ``checkout.session.completed`` and ``checkout.session.async_payment_succeeded``
(a paid checkout, see purchases), ``charge.refunded`` and ``charge.dispute.funds_withdrawn``
(see reversals: a dispute reverses tokens when the money actually leaves, not when it is
opened), and ``charge.dispute.funds_reinstated`` (see dispute_reinstatements: the money
came back, so do the tokens the withdrawal took; a withdrawal delivered after its
reinstatement takes no more than the reinstated dispute holds). Any other type is stored
and acknowledged.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import bindparam

from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.db.unit_of_work import side_transaction

from .dispute_reinstatements import reinstate_dispute
from .models import Payment
from .payment_gateway import GatewayEvent, PaymentGateway
from .purchases import complete_checkout
from .reversals import locked_payment, payment_account, reverse_payment

Outcome = Literal["processed", "ignored", "duplicate"]

CHECKOUT_PAID = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
REFUNDED = "charge.refunded"
DISPUTE_WITHDRAWN = "charge.dispute.funds_withdrawn"
DISPUTE_REINSTATED = "charge.dispute.funds_reinstated"

_STORE = text(
    "INSERT INTO stripe_events (id, type, payload) VALUES (:id, :type, :payload)"
    " ON CONFLICT (id) DO NOTHING"
).bindparams(bindparam("payload", type_=JSONB))
_LOCK = text("SELECT processed_at FROM stripe_events WHERE id = :id FOR UPDATE")
_PROCESSED = text("UPDATE stripe_events SET processed_at = now() WHERE id = :id")
# the dispute objects of a dispute's reinstatements already processed
_REINSTATEMENTS = text(
    "SELECT payload #> '{data,object}' FROM stripe_events WHERE type = :type"
    " AND processed_at IS NOT NULL AND payload #>> '{data,object,id}' = :dispute_id"
)


async def receive_stripe_event(
    session: AsyncSession,
    *,
    gateway: PaymentGateway,
    payload: bytes,
    signature: str,
    vat_rate: Decimal,
) -> Outcome:
    event = gateway.verify_event(payload, signature)
    async with side_transaction(session) as side:
        await side.execute(_STORE, {"id": event.id, "type": event.type, "payload": event.payload})
    processed_at = (await session.execute(_LOCK, {"id": event.id})).scalar_one()
    if processed_at is not None:
        return "duplicate"
    handled = await _process(session, event, vat_rate=vat_rate)
    await session.execute(_PROCESSED, {"id": event.id})
    return "processed" if handled else "ignored"


async def _process(session: AsyncSession, event: GatewayEvent, *, vat_rate: Decimal) -> bool:
    obj: dict[str, Any] = event.object
    if event.type in CHECKOUT_PAID:
        return await complete_checkout(session, checkout=obj, vat_rate=vat_rate) is not None
    payment_intent = obj.get("payment_intent")
    if event.type not in (REFUNDED, DISPUTE_WITHDRAWN, DISPUTE_REINSTATED) or not isinstance(
        payment_intent, str
    ):
        return False
    account_id = await payment_account(session, payment_intent)
    if account_id is None:
        return False
    async with tenant_scope(session, account_id):
        # locked first, whatever the event: a payment's events are processed one at a time
        # (a withdrawal finds the reinstatements of its dispute processed before it, or none)
        payment = await locked_payment(session, account_id, payment_intent)
        await _reverse(session, event.type, obj, payment)
    return True


async def _reverse(
    session: AsyncSession, event_type: str, obj: dict[str, Any], payment: Payment
) -> None:
    if event_type == REFUNDED:
        await reverse_payment(
            session, payment, reason="refund",
            amount_refunded_cents=int(obj.get("amount_refunded") or 0),
        )  # fmt: skip
    elif event_type == DISPUTE_WITHDRAWN:
        await reverse_payment(
            session, payment, reason="dispute",
            amount_disputed_cents=await _withdrawn(session, obj),
        )  # fmt: skip
    else:
        await reinstate_dispute(session, payment, amount_disputed_cents=_still_disputed(obj))


async def _withdrawn(session: AsyncSession, dispute: dict[str, Any]) -> int:
    """What a withdrawal takes: the disputed amount, unless Stripe delivered it after a
    reinstatement of the same dispute (events may come out of order): then no more than
    what the dispute held once funds came back (nothing, when it was won)."""
    amount = int(dispute.get("amount") or 0)
    dispute_id = dispute.get("id")
    if not isinstance(dispute_id, str):
        return amount
    found = await session.execute(
        _REINSTATEMENTS, {"type": DISPUTE_REINSTATED, "dispute_id": dispute_id}
    )
    return min([amount, *(_still_disputed(later) for (later,) in found)])


def _still_disputed(dispute: dict[str, Any]) -> int:
    """What a dispute holds once funds came back: nothing when it was won; when it was lost
    on a payment refunded in part before it, Stripe gives back the part it had refunded
    (the dispute's positive balance transactions; only those in its currency are comparable)."""
    amount = int(dispute.get("amount") or 0)
    if dispute.get("status") == "won":
        return 0
    currency = str(dispute.get("currency") or "").lower()
    back = sum(
        int(move.get("amount") or 0)
        for move in dispute.get("balance_transactions") or []
        if isinstance(move, dict)
        and int(move.get("amount") or 0) > 0
        and str(move.get("currency") or "").lower() == currency
    )
    return max(amount - back, 0)
