"""What every authenticated request goes through once its caller is known: the account's
rate limit on the route group, then the claim of its Idempotency-Key (if it sent one).
Anonymous routes that take credentials count their requests per client address."""

from __future__ import annotations

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel import idempotency, rate_limits

from .principal import Actor


def _caller(actor: Actor) -> str:
    principal = actor.principal
    if principal.api_key_id is not None:
        return f"api_key:{principal.api_key_id}"
    return f"user:{principal.user_id}"


async def admit(request: Request, session: AsyncSession, actor: Actor) -> None:
    """One autocommit round trip for the count; one more, in the transaction, with a key."""
    scope = request.scope
    await rate_limits.count(scope, request.app.state.rate_limiter, actor.account_id)
    pending = idempotency.pending_key(scope)
    if pending is not None:
        await idempotency.claim(
            request, session, pending, account_id=actor.account_id, caller=_caller(actor)
        )


async def admit_address(request: Request) -> None:
    """Count a request of an anonymous route against its client address (behind a proxy,
    uvicorn's forwarded-address handling decides which address that is)."""
    address = request.client.host if request.client else "unknown"
    await rate_limits.count(request.scope, request.app.state.address_limiter, address)


# on the routes that take a password, a token from an e-mail, or create a person
AddressLimited = Depends(admit_address)
