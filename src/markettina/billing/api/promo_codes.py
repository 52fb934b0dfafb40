"""HTTP routes of promo codes: an account asks whether a code applies; staff manage them."""

from __future__ import annotations

import uuid
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
from markettina.kernel.web.inputs import QueryFlag

from .. import promo_admin
from ..accounts import plan_of
from ..promo_codes import evaluate_promo
from ..schemas.offers import (
    PromoCodeCreate,
    PromoCodeOut,
    PromoCodeUpdate,
    PromoDecisionOut,
    PromoValidateIn,
)

router = APIRouter(prefix="/billing", tags=["billing"])
staff_router = APIRouter(prefix="/staff/billing", tags=["staff"])

BillingRead = Annotated[Actor, require("billing:read")]


@router.post(
    "/promo-codes/validate",
    response_model=PromoDecisionOut,
    summary="Whether a promo code applies to a purchase, what it is worth, or why not",
)
async def validate_promo(
    body: PromoValidateIn, actor: BillingRead, session: Transaction
) -> PromoDecisionOut:
    """Always 200: `applies` false comes with a stable `reason`. Nothing is redeemed."""
    decision = await evaluate_promo(
        session, account_id=actor.account_id, code=body.code, package_id=body.package_id,
        amount_cents=body.amount_cents, plan=await plan_of(session, actor.account_id),
    )  # fmt: skip
    return PromoDecisionOut.model_validate(decision)


@staff_router.get("/promo-codes", response_model=Page[PromoCodeOut], summary="The promo codes")
@not_plain(STAFF_ONLY)
async def list_promos(
    member: StaffMember,
    session: Transaction,
    active: Annotated[
        QueryFlag | None, Query(description="Only active (or inactive) ones (true or false).")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[PromoCodeOut]:
    page = await promo_admin.list_promos(session, active=active, limit=limit, cursor=cursor)
    await record_staff_action(session, staff=member, action="promo_code.list")
    return Page[PromoCodeOut](
        items=[PromoCodeOut.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )


@staff_router.post(
    "/promo-codes",
    status_code=status.HTTP_201_CREATED,
    response_model=PromoCodeOut,
    summary="Create a promo code (codes are unique whatever their case)",
)
async def create_promo(
    body: PromoCodeCreate, member: StaffMember, session: Transaction
) -> PromoCodeOut:
    promo = await promo_admin.create_promo(session, **body.model_dump())
    await _audit(member, session, "promo_code.create", promo.id, body.model_dump(mode="json"))
    return PromoCodeOut.model_validate(promo)


@staff_router.get(
    "/promo-codes/{promo_code_id}", response_model=PromoCodeOut, summary="One promo code"
)
async def get_promo(
    promo_code_id: uuid.UUID, member: StaffMember, session: Transaction
) -> PromoCodeOut:
    promo = await promo_admin.get_promo(session, promo_code_id)
    await _audit(member, session, "promo_code.view", promo.id, None)
    return PromoCodeOut.model_validate(promo)


@staff_router.patch(
    "/promo-codes/{promo_code_id}",
    response_model=PromoCodeOut,
    summary="Change a promo code (`is_active: false` retires it; codes are never deleted)",
)
async def update_promo(
    promo_code_id: uuid.UUID, body: PromoCodeUpdate, member: StaffMember, session: Transaction
) -> PromoCodeOut:
    changes = body.model_dump(exclude_unset=True)
    promo = await promo_admin.update_promo(session, promo_code_id, changes)
    await _audit(member, session, "promo_code.update", promo.id,
                 body.model_dump(mode="json", exclude_unset=True))  # fmt: skip
    return PromoCodeOut.model_validate(promo)


async def _audit(
    member: StaffMember, session: Transaction, action: str, promo_id: uuid.UUID,
    details: dict[str, object] | None,
) -> None:  # fmt: skip
    await record_staff_action(session, staff=member, action=action, target_type="promo_code",
                              target_id=str(promo_id), details=details)  # fmt: skip
