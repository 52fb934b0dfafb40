"""The billing context's HTTP API."""

from __future__ import annotations

from fastapi import APIRouter

from . import checkout, invoices, packages, prices, promo_codes, referrals, wallet

router = APIRouter(prefix="/v1")
router.include_router(packages.router)
router.include_router(packages.staff_router)
router.include_router(checkout.router)
router.include_router(invoices.router)
router.include_router(invoices.staff_router)
router.include_router(wallet.router)
router.include_router(prices.router)
router.include_router(prices.staff_router)
router.include_router(promo_codes.router)
router.include_router(promo_codes.staff_router)
router.include_router(referrals.router)
