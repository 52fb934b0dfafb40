"""The content context's HTTP API: one router per resource, included here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")

# --- media library ---
from . import media  # noqa: E402

router.include_router(media.router)
