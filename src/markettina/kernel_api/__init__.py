"""The shared kernel's HTTP API (events, webhooks, jobs, feature flags). The kernel itself
knows no context; these routers sit above it and take the request pipeline from
``markettina.identity.public`` only."""

from __future__ import annotations

from fastapi import APIRouter

from . import events, feature_flags, jobs, rate_limits, webhooks

router = APIRouter(prefix="/v1")
router.include_router(events.router)
router.include_router(feature_flags.router)
router.include_router(jobs.router)
router.include_router(rate_limits.router)
router.include_router(webhooks.router)
