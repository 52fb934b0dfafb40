"""The content context's HTTP API: one router per resource, included here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")

# --- templates and A/B variants (h-templates) ------------------------------------------------
from . import templates as _templates  # noqa: E402

router.include_router(_templates.router)
from . import variants as _variants  # noqa: E402

router.include_router(_variants.router)
