"""Admission of the anonymous routes that take credentials (a password, a token from an
e-mail): their requests are counted per client address. An authenticated request's
admission (its account's rate limit, its Idempotency-Key) is a step of ``pipeline``."""

from __future__ import annotations

from fastapi import Depends, Request

from markettina.kernel import rate_limits


async def admit_address(request: Request) -> None:
    """Count a request of an anonymous route against its client address (behind a proxy,
    uvicorn's forwarded-address handling decides which address that is)."""
    address = request.client.host if request.client else "unknown"
    await rate_limits.count(request.scope, request.app.state.address_limiter, address)


# on the routes that take a password, a token from an e-mail, or create a person
AddressLimited = Depends(admit_address)
