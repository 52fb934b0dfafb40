"""Tokens of a disconnected social account revoked at the platform (RFC 7009), after the
disconnection commits: the account's row forgets them at once, and a job deferred in the
same transaction asks the platform to forget them too, so a leaked copy stops working.

The job carries the tokens as the row stored them, encrypted: they are decrypted only in
the worker, just before the call. A platform that is down is retried with backoff; one
without a revocation endpoint is left alone (its tokens expire on their own).
"""

from __future__ import annotations

from procrastinate import RetryStrategy
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.jobs import defer_in_transaction, job_queue
from markettina.kernel.logs import get_logger
from markettina.kernel.secrets_store import resolve_secrets
from markettina.kernel.security import SecretBox
from markettina.settings import get_settings

from . import social_ports
from .models import SocialAccount
from .social_ports import GrantRejected, UnknownPlatform

log = get_logger(__name__)


def secret_box() -> SecretBox:
    """The same keys the API uses (the configured ones, or the development ones it made)."""
    settings = get_settings()
    return resolve_secrets(
        secret_key=settings.secret_key.get_secret_value() if settings.secret_key else None,
        encryption_keys=[k.get_secret_value() for k in settings.encryption_keys],
        data_dir=settings.data_dir,
        production=settings.environment == "production",
    ).box


async def revoke_after_commit(session: AsyncSession, account: SocialAccount) -> None:
    """Defer the revocation of the tokens ``account`` holds now (call before wiping them)."""
    tokens = [
        [hint, encrypted]
        for hint, encrypted in (
            ("refresh_token", account.refresh_token_encrypted),  # revokes the grant on most
            ("access_token", account.access_token_encrypted),
        )
        if encrypted
    ]
    if tokens:
        await defer_in_transaction(
            session, revoke_social_tokens, platform=account.platform,
            social_account_id=str(account.id), tokens=tokens,
        )  # fmt: skip


@job_queue.task(
    name="identity.revoke_social_tokens",
    queue="maintenance",
    retry=RetryStrategy(max_attempts=6, exponential_wait=10),
)
async def revoke_social_tokens(
    platform: str, social_account_id: str, tokens: list[list[str]]
) -> dict[str, int]:
    """The job: see ``revoke_tokens``; the worker's keys decrypt."""
    try:
        client = social_ports.platform(platform)
    except UnknownPlatform:
        log.warning(
            "social_token_revocation_skipped", platform=platform,
            social_account_id=social_account_id, reason="platform not configured",
        )  # fmt: skip
        return {"revoked": 0}
    revoked = await revoke_tokens(client, tokens, box=secret_box())
    log.info("social_tokens_revoked", platform=platform, social_account_id=social_account_id,
             revoked=revoked)  # fmt: skip
    return {"revoked": revoked}


async def revoke_tokens(
    client: social_ports.OAuthPlatform, tokens: list[list[str]], *, box: SecretBox
) -> int:
    """Each (hint, encrypted token) revoked at the platform; how many were. A failure
    raises and the job is retried whole (revoking a token twice is harmless, RFC 7009)."""
    revoked = 0
    for hint, encrypted in tokens:
        try:
            if not await client.revoke(box.decrypt(encrypted), hint=hint):
                return revoked  # no revocation endpoint: the tokens expire on their own
        except GrantRejected:
            pass  # the platform no longer knows it: as good as revoked
        revoked += 1
    return revoked
