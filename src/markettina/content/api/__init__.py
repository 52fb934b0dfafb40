"""The content context's HTTP API: one router per resource, included here."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    calendar,
    campaigns,
    leads,
    media,
    post_import,
    post_media,
    post_series,
    post_versions,
    posting_queue,
    posts,
    templates,
    variants,
)

router = APIRouter(prefix="/v1")
router.include_router(campaigns.router)
router.include_router(posts.router)
router.include_router(post_versions.router)
router.include_router(post_media.router)
router.include_router(posting_queue.posts_router)
router.include_router(posting_queue.router)
router.include_router(post_series.router)
router.include_router(post_import.router)
router.include_router(calendar.router)
router.include_router(media.router)
router.include_router(templates.router)
router.include_router(variants.router)
router.include_router(leads.router)
router.include_router(leads.scoring_router)
router.include_router(leads.imports_router)
