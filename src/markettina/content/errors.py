"""The content context's refusals, each with its HTTP status and stable code."""

from __future__ import annotations
