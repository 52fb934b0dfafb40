"""HTTP routes of the identity context: api_keys."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
