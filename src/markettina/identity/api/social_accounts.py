"""HTTP routes of the identity context: social_accounts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
