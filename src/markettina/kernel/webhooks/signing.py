"""Webhook signing secrets and the signature header a receiver checks.

``Markettina-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, keyed by
the endpoint's whole secret (``whsec_…``). The timestamp is signed too, so a receiver that
refuses old timestamps also refuses replays. While a rotated-out secret is in its grace
period, a second ``v1`` follows, made with it: a receiver accepts the header if any ``v1``
matches its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_HEADER = "Markettina-Signature"
SCHEME = "v1"


def new_signing_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(signing_secrets: tuple[str, ...], body: bytes, timestamp: int) -> str:
    """``t=…`` then one ``v1=…`` per secret, in the order given (the current one first)."""
    signed = ",".join(f"{SCHEME}={signature(s, body, timestamp)}" for s in signing_secrets)
    return f"t={timestamp},{signed}"
