"""The identity context's HTTP API."""

from __future__ import annotations

from fastapi import APIRouter

from . import accounts, api_keys, auth, sessions, social_accounts, staff

router = APIRouter(prefix="/v1")
router.include_router(auth.router)
router.include_router(sessions.router)
router.include_router(accounts.router)
router.include_router(api_keys.router)
router.include_router(social_accounts.router)
router.include_router(staff.router)
