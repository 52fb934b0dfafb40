"""The content context's HTTP API: one router per resource, included here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")

# --- campaigns ------------------------------------------------------------------------------
from . import campaigns as _campaigns  # noqa: E402

router.include_router(_campaigns.router)
# --- media library ---
from . import media  # noqa: E402

router.include_router(media.router)
