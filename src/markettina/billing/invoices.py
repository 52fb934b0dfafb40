"""Invoices: issued for each purchase with its VAT and the buyer's billing details, listed
and read by the account, never deleted — a void or a refund issues a credit note (a
negative invoice with its own number, naming the invoice it credits), and a won dispute
bills again, on a new invoice, what its withdrawal had credited."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from markettina.kernel.db.keyset import newest_first
from markettina.kernel.errors import Conflict, NotFound
from markettina.kernel.events import record
from markettina.kernel.pagination import Page, page_of

from .billing_details import billing_details_of
from .invoice_numbers import next_invoice_number
from .models import Invoice, InvoiceItem, Payment
from .payment_events import InvoiceIssued, InvoiceVoided
from .vat import net_of, split_gross


@dataclass(frozen=True)
class Line:
    description: str
    unit_price_cents: int  # net of VAT
    quantity: int = 1
    service_type: str | None = None
    resource_id: str | None = None


@dataclass(frozen=True)
class Buyer:
    """Who is billed when the account has kept no billing details (from the checkout)."""

    name: str | None = None
    email: str | None = None


def pdf_path(invoice_id: uuid.UUID) -> str:
    return f"/v1/billing/invoices/{invoice_id}/pdf"


async def issue_purchase_invoice(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    description: str,
    list_price_cents: int,
    paid_cents: int,
    currency: str,
    vat_rate: Decimal,
    discount_label: str | None,
    paid_at: dt.datetime,
    payment_intent_id: str | None,
    resource_id: str,
    buyer: Buyer,
) -> Invoice:
    """A paid invoice for what was paid (VAT included): the package at its list price and,
    when less was paid, a discount line; the lines always add up to the net total."""
    split = split_gross(paid_cents, vat_rate)
    # Stripe's amount is the truth: a package sold above its list price bills what was paid
    package_net = (
        net_of(list_price_cents, vat_rate) if paid_cents <= list_price_cents else split.net_cents
    )
    lines = [Line(description, package_net, service_type="token_package", resource_id=resource_id)]
    if package_net != split.net_cents:
        lines.append(Line(discount_label or "Discount", split.net_cents - package_net))
    return await _issue(
        session, account_id=account_id, kind="invoice", status="paid", lines=lines,
        tax_cents=split.tax_cents, currency=currency, vat_rate=vat_rate, paid_at=paid_at,
        payment_method="stripe", payment_intent_id=payment_intent_id, buyer=buyer,
    )  # fmt: skip


async def issue_credit_note(
    session: AsyncSession, *, original: Invoice, gross_cents: int, reason: str
) -> Invoice:
    """Credit ``gross_cents`` (VAT included, positive) of ``original``, at its VAT rate."""
    rate = original.tax_rate if original.tax_rate is not None else Decimal(0)
    split = split_gross(-gross_cents, rate)
    line = Line(f"Credit note for invoice {original.invoice_number}: {reason}", split.net_cents)
    return await _issue(
        session, account_id=original.account_id, kind="credit_note", status="issued",
        lines=[line], tax_cents=split.tax_cents, currency=original.currency, vat_rate=rate,
        paid_at=None, payment_method=original.payment_method,
        payment_intent_id=original.payment_intent_id, credits=original, billed_as=original,
        buyer=Buyer(original.billing_name, original.billing_email),
    )  # fmt: skip


async def issue_rebill_invoice(
    session: AsyncSession, *, original: Invoice, gross_cents: int, description: str,
    resource_id: str, paid_at: dt.datetime,
) -> Invoice:  # fmt: skip
    """A paid invoice for ``gross_cents`` (VAT included) of the sale ``original`` billed:
    at its VAT rate, to whom it billed, paid by the same payment."""
    rate = original.tax_rate if original.tax_rate is not None else Decimal(0)
    split = split_gross(gross_cents, rate)
    line = Line(description, split.net_cents, service_type="token_package", resource_id=resource_id)
    return await _issue(
        session, account_id=original.account_id, kind="invoice", status="paid", lines=[line],
        tax_cents=split.tax_cents, currency=original.currency, vat_rate=rate, paid_at=paid_at,
        payment_method=original.payment_method, payment_intent_id=original.payment_intent_id,
        billed_as=original, buyer=Buyer(original.billing_name, original.billing_email),
    )  # fmt: skip


async def credited_cents(session: AsyncSession, original: Invoice) -> int:
    """How much of ``original`` (gross, positive) its credit notes have given back."""
    notes = (
        await session.execute(
            select(Invoice.total_cents).where(
                Invoice.account_id == original.account_id,
                Invoice.credits_invoice_id == original.id,
            )
        )
    ).scalars()
    return -sum(notes)


async def void_invoice(
    session: AsyncSession, *, account_id: uuid.UUID, invoice_id: uuid.UUID, reason: str
) -> tuple[Invoice, Invoice]:
    """Mark an invoice void and issue the credit note for what is not credited yet."""
    original = await _locked_invoice(session, account_id, invoice_id)
    if original.kind != "invoice":
        raise Conflict("a credit note cannot be voided", code="invoice_not_voidable")
    if original.status in ("void", "refunded", "draft"):
        raise Conflict(f"the invoice is {original.status}", code="invoice_not_voidable")
    remaining = original.total_cents - await credited_cents(session, original)
    if remaining <= 0:
        raise Conflict("the invoice is fully credited already", code="invoice_not_voidable")
    note = await issue_credit_note(session, original=original, gross_cents=remaining, reason=reason)
    original.status = "void"
    await session.flush()
    await record(
        session,
        InvoiceVoided(
            invoice_id=original.id, invoice_number=original.invoice_number,
            credit_note_id=note.id, credit_note_number=note.invoice_number, reason=reason,
        ),
        account_id=account_id,
        aggregate_id=original.id,
        aggregate_version=original.version,
    )  # fmt: skip
    return (
        await get_invoice(session, account_id, original.id),
        await get_invoice(session, account_id, note.id),
    )


async def invoices_for_payment(session: AsyncSession, payment: Payment) -> list[Invoice]:
    """The invoices of a payment, locked (refunds of one payment queue on them), oldest
    first: the purchase invoice, then any that billed a won dispute's amount again."""
    if payment.stripe_payment_intent_id is None:
        return []
    return list(
        (
            await session.execute(
                select(Invoice)
                .where(
                    Invoice.account_id == payment.account_id,
                    Invoice.payment_intent_id == payment.stripe_payment_intent_id,
                    Invoice.kind == "invoice",
                )
                .order_by(Invoice.created_at, Invoice.invoice_number)
                .with_for_update()
            )
        ).scalars()
    )


async def get_invoice(
    session: AsyncSession, account_id: uuid.UUID, invoice_id: uuid.UUID
) -> Invoice:
    invoice = (
        await session.execute(
            select(Invoice)
            .options(selectinload(Invoice.items))
            .where(
                Invoice.account_id == account_id,
                Invoice.id == invoice_id,
                Invoice.deleted_at.is_(None),
            )
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if invoice is None:
        raise NotFound("no such invoice in this account", code="invoice_not_found")
    return invoice


async def list_invoices(
    session: AsyncSession, *, account_id: uuid.UUID, limit: int, cursor: str | None
) -> Page[Invoice]:
    """Newest first, credit notes included."""
    query = (
        select(Invoice)
        .options(selectinload(Invoice.items))
        .where(Invoice.account_id == account_id, Invoice.deleted_at.is_(None))
    )
    query = newest_first(query, at=Invoice.created_at, id_=Invoice.id, limit=limit, cursor=cursor)
    rows = list((await session.execute(query)).scalars())
    return page_of(rows, limit, lambda i: (i.created_at.isoformat(), i.id))


# --- the parts ------------------------------------------------------------------------------


async def _locked_invoice(
    session: AsyncSession, account_id: uuid.UUID, invoice_id: uuid.UUID
) -> Invoice:
    invoice = (
        await session.execute(
            select(Invoice)
            .where(
                Invoice.account_id == account_id,
                Invoice.id == invoice_id,
                Invoice.deleted_at.is_(None),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if invoice is None:
        raise NotFound("no such invoice in this account", code="invoice_not_found")
    return invoice


async def _issue(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    kind: str,
    status: str,
    lines: list[Line],
    tax_cents: int,
    currency: str,
    vat_rate: Decimal,
    paid_at: dt.datetime | None,
    payment_method: str | None,
    payment_intent_id: str | None,
    buyer: Buyer,
    credits: Invoice | None = None,
    billed_as: Invoice | None = None,
) -> Invoice:
    """Number the invoice last: the year's counter stays locked until the transaction ends.
    ``billed_as``: an invoice about the same sale, which bills whom that one billed."""
    details = await billing_details_of(session, account_id)
    subtotal = sum(line.quantity * line.unit_price_cents for line in lines)
    number = await next_invoice_number(session)
    invoice_id = uuid.uuid4()
    invoice = Invoice(
        account_id=account_id, id=invoice_id, invoice_number=str(number),
        subtotal_cents=subtotal, tax_cents=tax_cents, total_cents=subtotal + tax_cents,
        currency=currency, status=status, issue_date=number.issue_date,
        due_date=number.issue_date, paid_at=paid_at, payment_method=payment_method,
        payment_intent_id=payment_intent_id,
        billing_name=details.name if details and details.name else buyer.name,
        billing_email=details.email if details and details.email else buyer.email,
        billing_address=details.address if details else None,
        billing_vat_id=details.vat_id if details else None,
        pdf_url=pdf_path(invoice_id), kind=kind,
        credits_invoice_id=credits.id if credits else None, tax_rate=vat_rate,
    )  # fmt: skip
    if billed_as is not None:
        invoice.billing_name, invoice.billing_email = (
            billed_as.billing_name, billed_as.billing_email,
        )  # fmt: skip
        invoice.billing_address, invoice.billing_vat_id = (
            billed_as.billing_address, billed_as.billing_vat_id,
        )  # fmt: skip
    session.add(invoice)
    await session.flush()
    session.add_all(
        InvoiceItem(
            account_id=account_id,
            invoice_id=invoice_id,
            description=line.description,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            total_cents=line.quantity * line.unit_price_cents,
            service_type=line.service_type,
            resource_id=line.resource_id,
        )
        for line in lines
    )
    await session.flush()
    await record(
        session,
        InvoiceIssued(
            invoice_id=invoice_id, invoice_number=invoice.invoice_number, kind=kind,
            subtotal_cents=subtotal, tax_cents=tax_cents, total_cents=invoice.total_cents,
            currency=currency, credits_invoice_id=invoice.credits_invoice_id,
        ),
        account_id=account_id,
        aggregate_id=invoice_id,
    )  # fmt: skip
    return invoice
