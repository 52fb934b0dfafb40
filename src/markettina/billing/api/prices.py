"""HTTP routes of service prices: the current list for accounts, the history and new
prices for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from markettina.identity.public import (
    STAFF_ONLY,
    Actor,
    StaffMember,
    Transaction,
    not_plain,
    record_staff_action,
    require,
)
from markettina.kernel.pagination import Cursor, Limit, Page

from .. import pricing
from ..ledger import today
from ..schemas.offers import PriceCreate, PriceOut, StaffPriceOut

router = APIRouter(prefix="/billing", tags=["billing"])
staff_router = APIRouter(prefix="/staff/billing", tags=["staff"])

BillingRead = Annotated[Actor, require("billing:read")]


@router.get("/prices", response_model=list[PriceOut], summary="What each service costs today")
async def list_prices(actor: BillingRead, session: Transaction) -> list[PriceOut]:
    return [PriceOut.model_validate(p) for p in await pricing.price_list(session, on=today())]


@staff_router.get(
    "/service-prices",
    response_model=Page[StaffPriceOut],
    summary="Every price ever set, scheduled ones too, by service",
)
@not_plain(STAFF_ONLY)
async def price_history(
    member: StaffMember,
    session: Transaction,
    service_type: Annotated[str | None, Query(max_length=63)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[StaffPriceOut]:
    page = await pricing.price_history(
        session, service_type=service_type, limit=limit, cursor=cursor
    )
    await record_staff_action(session, staff=member, action="service_price.list")
    return Page[StaffPriceOut](
        items=[StaffPriceOut.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )


@staff_router.post(
    "/service-prices",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffPriceOut,
    summary="Set a service's price from a date (the previous one ends the day before)",
)
async def set_price(body: PriceCreate, member: StaffMember, session: Transaction) -> StaffPriceOut:
    day = today()
    price = await pricing.set_price(
        session, service_type=body.service_type, service_subtype=body.service_subtype,
        token_cost=body.token_cost, name=body.name, description=body.description,
        effective_from=body.effective_from or day, today=day,
    )  # fmt: skip
    await record_staff_action(
        session, staff=member, action="service_price.set", target_type="service_price",
        target_id=str(price.id), details=body.model_dump(mode="json"),
    )  # fmt: skip
    return StaffPriceOut.model_validate(price)
