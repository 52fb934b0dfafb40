"""HTTP routes of the identity context: accounts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
