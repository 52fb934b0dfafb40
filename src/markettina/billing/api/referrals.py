"""HTTP route of referrals: the account's code and the referrals made with it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from markettina.identity.public import Actor, Transaction, require

from .. import referrals
from ..schemas.offers import ReferralOut, ReferralOverviewOut

router = APIRouter(prefix="/billing", tags=["billing"])

BillingRead = Annotated[Actor, require("billing:read")]


@router.get(
    "/referral",
    response_model=ReferralOverviewOut,
    summary="The account's referral code (made on first use) and its referrals",
)
async def read_referral(actor: BillingRead, session: Transaction) -> ReferralOverviewOut:
    found = await referrals.overview(session, account_id=actor.account_id)
    return ReferralOverviewOut(
        code=found.code,
        referrer_bonus_tokens=referrals.REFERRER_BONUS,
        referred_bonus_tokens=referrals.REFERRED_BONUS,
        referrals=[ReferralOut.model_validate(r) for r in found.referrals],
    )
