"""The content context's HTTP API: one router per resource, included here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")

# --- posts (h-posts) ----------------------------------------------------------------------

from . import post_versions, posts  # noqa: E402

router.include_router(posts.router)
router.include_router(post_versions.router)

# --- calendar and posting queue (h-calendar) ---------------------------------------------------
from . import calendar, post_import, post_series, posting_queue  # noqa: E402

router.include_router(calendar.router)
router.include_router(posting_queue.router)
router.include_router(posting_queue.posts_router)
router.include_router(post_series.router)
router.include_router(post_import.router)
