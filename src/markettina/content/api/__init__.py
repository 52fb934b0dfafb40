"""The content context's HTTP API: one router per resource, included here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")

# --- leads -------------------------------------------------------------------------------
from .leads import imports_router as _lead_imports_router  # noqa: E402
from .leads import router as _leads_router  # noqa: E402
from .leads import scoring_router as _lead_scoring_router  # noqa: E402

router.include_router(_leads_router)
router.include_router(_lead_scoring_router)
router.include_router(_lead_imports_router)
