"""HTTP routes of the identity context: staff."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
