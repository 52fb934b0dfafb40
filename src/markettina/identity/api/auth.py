"""HTTP routes of the identity context: auth."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
