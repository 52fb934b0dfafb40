"""What every authenticated request goes through once its caller is known: the account's
rate limit on the route group, then the claim of its Idempotency-Key (if it sent one)."""

from __future__ import annotations

from fastapi import Request
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
    group = rate_limits.route_group(scope["path"])
    decision = await request.app.state.rate_limiter.take(actor.account_id, group)
    rate_limits.answer_with(scope, decision)
    pending = idempotency.pending_key(scope)
    if pending is not None:
        await idempotency.claim(
            request, session, pending, account_id=actor.account_id, caller=_caller(actor)
        )
