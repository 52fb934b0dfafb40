"""HTTP routes of invoices and billing details; staff void an invoice with a credit note."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from markettina.identity.public import (
    ROWS_IN_PYTHON,
    Actor,
    StaffMember,
    Transaction,
    not_plain,
    record_staff_action,
    require,
)
from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.errors import NotFound
from markettina.kernel.pagination import Cursor, Limit, Page

from .. import billing_details, invoices
from ..accounts import account_exists
from ..schemas.sales import BillingDetailsIn, BillingDetailsOut, InvoiceOut, VoidIn, VoidOut

router = APIRouter(prefix="/billing", tags=["billing"])
staff_router = APIRouter(prefix="/staff/accounts/{account_id}/invoices", tags=["staff"])

BillingRead = Annotated[Actor, require("billing:read")]
BillingManage = Annotated[Actor, require("billing:manage")]


@router.get("/details", response_model=BillingDetailsOut, summary="What invoices are made out to")
async def read_details(actor: BillingRead, session: Transaction) -> BillingDetailsOut:
    details = await billing_details.billing_details_of(session, actor.account_id)
    return BillingDetailsOut() if details is None else BillingDetailsOut.model_validate(details)


@router.put(
    "/details",
    response_model=BillingDetailsOut,
    summary="Replace the billing details (invoices issued later carry them)",
)
async def replace_details(
    body: BillingDetailsIn, actor: BillingManage, session: Transaction
) -> BillingDetailsOut:
    details = await billing_details.replace_billing_details(
        session, account_id=actor.account_id, **body.model_dump()
    )
    return BillingDetailsOut.model_validate(details)


@router.get(
    "/invoices", response_model=Page[InvoiceOut], summary="Invoices and credit notes, newest first"
)
@not_plain(ROWS_IN_PYTHON)
async def list_invoices(
    actor: BillingRead, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Page[InvoiceOut]:
    page = await invoices.list_invoices(
        session, account_id=actor.account_id, limit=limit, cursor=cursor
    )
    return Page[InvoiceOut](
        items=[InvoiceOut.model_validate(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/invoices/{invoice_id}", response_model=InvoiceOut, summary="One invoice with its lines"
)
async def read_invoice(
    invoice_id: uuid.UUID, actor: BillingRead, session: Transaction
) -> InvoiceOut:
    return InvoiceOut.model_validate(
        await invoices.get_invoice(session, actor.account_id, invoice_id)
    )


@router.get(
    "/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The invoice as a PDF"}},
    summary="The invoice as a PDF",
)
async def invoice_pdf(
    invoice_id: uuid.UUID, actor: BillingRead, session: Transaction, request: Request
) -> Response:
    # the PDF renderer (fpdf2, fontTools) loads with the first PDF, not with the app
    from ..invoice_pdf import Seller, render_invoice_pdf

    invoice = await invoices.get_invoice(session, actor.account_id, invoice_id)
    settings = request.app.state.settings
    seller = Seller(settings.seller_name, settings.seller_address, settings.seller_vat_id)
    # embedding the font takes a while: off the event loop, so other requests go on
    document = await run_in_threadpool(render_invoice_pdf, invoice, list(invoice.items), seller)
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.invoice_number}.pdf"'},
    )


@staff_router.post(
    "/{invoice_id}/void",
    response_model=VoidOut,
    summary="Void an invoice: a credit note with its own number cancels it (nothing is deleted)",
)
async def void_invoice(
    account_id: uuid.UUID, invoice_id: uuid.UUID, body: VoidIn, member: StaffMember,
    session: Transaction,
) -> VoidOut:  # fmt: skip
    """409 `invoice_not_voidable` for a credit note, or an invoice void, refunded or fully
    credited already."""
    if not await account_exists(session, account_id):
        raise NotFound("no such account", code="account_not_found")
    async with tenant_scope(session, account_id):
        voided, note = await invoices.void_invoice(
            session, account_id=account_id, invoice_id=invoice_id, reason=body.reason
        )
    await record_staff_action(
        session, staff=member, action="invoice.void", target_type="invoice",
        target_id=str(invoice_id),
        details={"account_id": str(account_id), "credit_note": note.invoice_number,
                 "reason": body.reason},
    )  # fmt: skip
    return VoidOut(
        invoice=InvoiceOut.model_validate(voided), credit_note=InvoiceOut.model_validate(note)
    )
