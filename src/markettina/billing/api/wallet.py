"""HTTP routes of the account's wallet: balance and totals, the ledger, monthly usage."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from markettina.identity.public import ROWS_IN_PYTHON, Actor, Transaction, not_plain, require
from markettina.kernel.pagination import Cursor, Limit, Page

from .. import usage
from ..ledger import today
from ..schemas.wallet import TokenTransactionOut, UsageOut, WalletOut

router = APIRouter(prefix="/billing", tags=["billing"])

BillingRead = Annotated[Actor, require("billing:read")]
EntryType = Literal["purchase", "usage", "bonus", "refund", "adjustment"]


@router.get("/wallet", response_model=WalletOut, summary="The token balance and its totals")
async def read_wallet(actor: BillingRead, session: Transaction) -> WalletOut:
    return await usage.wallet_view(session, account_id=actor.account_id)


@router.get(
    "/transactions",
    response_model=Page[TokenTransactionOut],
    summary="The token ledger, newest first",
)
@not_plain(ROWS_IN_PYTHON)
async def list_transactions(
    actor: BillingRead,
    session: Transaction,
    type: Annotated[EntryType | None, Query(description="Only entries of this type.")] = None,
    service_type: Annotated[
        str | None, Query(max_length=63, description="Only entries for this service.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[TokenTransactionOut]:
    page = await usage.ledger_page(
        session, account_id=actor.account_id, type=type, service_type=service_type,
        limit=limit, cursor=cursor,
    )  # fmt: skip
    return Page[TokenTransactionOut](
        items=[TokenTransactionOut.model_validate(t) for t in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/usage", response_model=UsageOut, summary="Tokens used per month and service type")
async def monthly_usage(
    actor: BillingRead,
    session: Transaction,
    months: Annotated[
        int, Query(ge=1, le=36, description="This month and the months before it.")
    ] = 6,
) -> UsageOut:
    rows = await usage.monthly_usage(
        session, account_id=actor.account_id, months=months, today=today()
    )
    return UsageOut(months=months, usage=rows)
