"""Idempotency keys on unsafe requests (issue 6, item 3)."""

from __future__ import annotations

from .claims import HEADER, IdempotentReplay, PendingKey, claim, pending_key, request_hash
from .openapi import declare_header
from .recorder import install

__all__ = ["HEADER", "IdempotentReplay", "PendingKey", "claim", "declare_header", "install",
           "pending_key", "request_hash"]  # fmt: skip
