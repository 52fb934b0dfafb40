"""Social accounts of an account: connected through OAuth 2.0 (authorization code + PKCE,
with a signed, stateless ``state``), listed, one primary per platform, disconnected by soft
delete. Tokens are encrypted at rest; a periodic check refreshes those about to expire and
keeps one health record per social account.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from markettina.kernel.db.keyset import newest_first
from markettina.kernel.errors import FieldError, MarkettinaError, NotFound, ValidationFailed
from markettina.kernel.events import record
from markettina.kernel.logs import get_logger
from markettina.kernel.pagination import Page, page_of
from markettina.kernel.security import SecretBox, TokenError, issue_token, read_token

from . import social_ports
from .events import SocialAccountConnected, SocialAccountDisconnected
from .models import SocialAccount, SocialAccountHealth
from .principal import Actor
from .social_ports import GrantRejected, PlatformError, PlatformProfile, TokenSet
from .social_revocation import revoke_after_commit

log = get_logger(__name__)

STATE_AUDIENCE = "markettina-oauth-state"
STATE_TTL = dt.timedelta(minutes=10)
REFRESH_AHEAD = dt.timedelta(hours=24)  # tokens expiring sooner are refreshed by the check
CHECK_INTERVAL = dt.timedelta(minutes=30)  # how often the periodic check runs
UNHEALTHY_AFTER_FAILURES = 3
CHECK_BATCH = 500  # accounts refreshed per run at most, soonest expiry first
ROTATION_BATCH = 500


class PlatformFailed(MarkettinaError):
    status, code, title = 502, "platform_error", "The social platform failed"


@dataclass(frozen=True)
class ConnectedAccount:
    account: SocialAccount
    health: SocialAccountHealth | None


# --- connect: state and PKCE ------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    platform: str
    redirect_uri: str
    code_verifier: str


def _pkce_pair() -> tuple[str, str]:
    """RFC 7636: a 86-character verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def _caller(actor: Actor) -> dict[str, Any]:
    """Who started a connection: only the same person (or key) may complete it."""
    key = actor.principal.api_key_id
    return {"usr": actor.user_id, "key": str(key) if key is not None else None}


def start_connect(
    *,
    actor: Actor,
    platform: str,
    redirect_uri: str,
    secret_key: str,
    box: SecretBox,
    now: dt.datetime | None = None,
) -> str:
    """The platform's consent URL. ``state`` is signed and short-lived and carries the PKCE
    verifier encrypted, so nothing is stored and the verifier never travels in clear."""
    oauth = social_ports.platform(platform)
    verifier, challenge = _pkce_pair()
    state = issue_token(
        secret=secret_key,
        subject=str(actor.account_id),
        audience=STATE_AUDIENCE,
        ttl=STATE_TTL,
        now=now,
        plt=platform,
        ruri=redirect_uri,
        pkv=box.encrypt(verifier),
        **_caller(actor),
    )
    return oauth.authorization_url(
        state=state,
        code_challenge=challenge,
        redirect_uri=redirect_uri,
        scopes=list(oauth.default_scopes),
    )


def _state_error(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, errors=[FieldError("body.state", message, code)])


def _invalid_state() -> ValidationFailed:
    return _state_error("the state is not one this service issued", "oauth_state_invalid")


def _read_state(state: str, *, actor: Actor, secret_key: str, box: SecretBox) -> _State:
    try:
        claims = read_token(state, secret=secret_key, audience=STATE_AUDIENCE)
    except TokenError as exc:
        if isinstance(exc.__cause__, jwt.ExpiredSignatureError):
            raise _state_error(
                "the connection took too long: start it again", "oauth_state_expired"
            ) from exc
        raise _invalid_state() from exc
    extra = claims.extra
    if claims.subject != str(actor.account_id) or any(
        extra.get(k) != v for k, v in _caller(actor).items()
    ):
        raise _state_error(
            "this connection was started by someone else or for another account",
            "oauth_state_mismatch",
        )
    try:
        return _State(
            platform=str(extra["plt"]),
            redirect_uri=str(extra["ruri"]),
            code_verifier=box.decrypt(str(extra["pkv"])),
        )
    except (KeyError, ValueError) as exc:
        raise _invalid_state() from exc


async def complete_connect(
    *, session: AsyncSession, actor: Actor, state: str, code: str, secret_key: str, box: SecretBox
) -> ConnectedAccount:
    """Redeem the code with the state's verifier, read the profile, and store the account
    (connecting the same platform user again refreshes it, or revives it if disconnected)."""
    started = _read_state(state, actor=actor, secret_key=secret_key, box=box)
    oauth = social_ports.platform(started.platform, field="body.state")
    try:
        tokens = await oauth.exchange_code(
            code=code, code_verifier=started.code_verifier, redirect_uri=started.redirect_uri
        )
    except GrantRejected as exc:
        message = "the platform refused the authorization code (used, expired or not yours)"
        raise ValidationFailed(
            f"{message}: {exc}",
            code="oauth_code_rejected",
            errors=[FieldError("body.code", message, "oauth_code_rejected")],
        ) from exc
    except PlatformError as exc:
        raise PlatformFailed(f"{started.platform}: {exc}") from exc
    try:
        profile = await oauth.profile(tokens.access_token)
    except PlatformError as exc:
        raise PlatformFailed(f"{started.platform}: {exc}") from exc

    now = dt.datetime.now(dt.UTC)
    account = await _upsert(
        session, actor=actor, platform=started.platform, profile=profile, tokens=tokens,
        scopes=tokens.scopes or tuple(oauth.default_scopes), box=box,
    )  # fmt: skip
    health = await record_health(
        session, account, status="healthy", failures=0, message=None, now=now,
        next_check=next_check(account.token_expires_at, now),
    )  # fmt: skip
    await record(
        session,
        SocialAccountConnected(
            social_account_id=account.id, platform=account.platform,
            platform_user_id=account.platform_user_id, handle=account.handle,
            is_primary=account.is_primary, connected_by=actor.user_id,
        ),
        account_id=actor.account_id,
        aggregate_id=account.id,
        aggregate_version=account.version,
    )  # fmt: skip
    log.info("social_account_connected", social_account_id=str(account.id))
    return ConnectedAccount(account, health)


async def _upsert(
    session: AsyncSession,
    *,
    actor: Actor,
    platform: str,
    profile: PlatformProfile,
    tokens: TokenSet,
    scopes: Sequence[str],
    box: SecretBox,
) -> SocialAccount:
    other = aliased(SocialAccount)
    other_primary = exists().where(
        other.account_id == actor.account_id,
        other.platform == platform,
        other.platform_user_id != profile.platform_user_id,
        other.is_primary,
        other.deleted_at.is_(None),
    )
    values: dict[str, Any] = {
        "user_id": actor.user_id,
        "display_name": profile.display_name,
        "handle": profile.handle,
        "profile_image_url": profile.profile_image_url,
        "access_token_encrypted": box.encrypt(tokens.access_token),
        "refresh_token_encrypted": encrypt_token(box, tokens.refresh_token),
        "token_expires_at": tokens.expires_at,
        "token_scope": list(scopes),
        "is_active": True,
        "is_primary": ~other_primary,  # the first live account of a platform is its primary
    }
    statement = insert(SocialAccount).values(
        account_id=actor.account_id,
        platform=platform,
        platform_user_id=profile.platform_user_id,
        **values,
    )
    statement = statement.on_conflict_do_update(
        constraint="uq_social_accounts_account_id_platform_platform_user_id",
        set_={
            **values,
            # a platform that does not re-issue a refresh token keeps the one held
            "refresh_token_encrypted": func.coalesce(
                statement.excluded.refresh_token_encrypted, SocialAccount.refresh_token_encrypted
            ),
            "deleted_at": None,  # connecting a disconnected platform user again revives it
            "deleted_by": None,
        },
    )
    returning = statement.returning(SocialAccount)
    options = {"populate_existing": True}
    return (await session.scalars(returning, execution_options=options)).one()


def encrypt_token(box: SecretBox, secret: str | None) -> str | None:
    return box.encrypt(secret) if secret is not None else None


def next_check(expires_at: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """When the periodic check will next look at a token (None: it never expires)."""
    if expires_at is None:
        return None
    return max(expires_at - REFRESH_AHEAD, now + CHECK_INTERVAL)


async def latest_health(
    session: AsyncSession, account_id: uuid.UUID, social_account_id: uuid.UUID
) -> SocialAccountHealth | None:
    return (
        await session.scalars(
            select(SocialAccountHealth)
            .where(
                SocialAccountHealth.account_id == account_id,
                SocialAccountHealth.social_account_id == social_account_id,
            )
            .order_by(SocialAccountHealth.created_at.desc(), SocialAccountHealth.id.desc())
            .limit(1)
        )
    ).one_or_none()


async def record_health(
    session: AsyncSession,
    account: SocialAccount,
    *,
    status: str,
    failures: int,
    message: str | None,
    now: dt.datetime,
    next_check: dt.datetime | None,
) -> SocialAccountHealth:
    """One health record per social account, kept current (written on first connect)."""
    health = await latest_health(session, account.account_id, account.id)
    if health is None:
        health = SocialAccountHealth(account_id=account.account_id, social_account_id=account.id)
        session.add(health)
    health.status = status
    health.consecutive_failures = failures
    health.status_message = message
    health.last_check_at = now
    health.next_check_at = next_check
    await session.flush()
    return health


# --- list, primary, disconnect ----------------------------------------------------------------


async def list_social_accounts(
    *, session: AsyncSession, actor: Actor, platform: str | None, limit: int, cursor: str | None
) -> Page[ConnectedAccount]:
    """Live accounts, newest first."""
    query = select(SocialAccount).where(
        SocialAccount.account_id == actor.account_id, SocialAccount.deleted_at.is_(None)
    )
    if platform is not None:
        query = query.where(SocialAccount.platform == platform)
    query = newest_first(
        query, at=SocialAccount.created_at, id_=SocialAccount.id, limit=limit, cursor=cursor
    )
    page = page_of(
        list(await session.scalars(query)), limit, lambda a: (a.created_at.isoformat(), a.id)
    )
    ids = [account.id for account in page.items]
    health: dict[uuid.UUID, SocialAccountHealth] = {}
    rows = await session.scalars(
        select(SocialAccountHealth)
        .where(
            SocialAccountHealth.account_id == actor.account_id,
            SocialAccountHealth.social_account_id.in_(ids),
        )
        .order_by(SocialAccountHealth.created_at, SocialAccountHealth.id)
    )
    for row in rows:  # the latest record of each account wins
        health[row.social_account_id] = row
    items = [ConnectedAccount(account, health.get(account.id)) for account in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


async def _lock_platform(
    session: AsyncSession, actor: Actor, social_account_id: uuid.UUID
) -> tuple[SocialAccount, list[SocialAccount]]:
    """The live account and every live account of its platform, locked in id order (so two
    changes of primary on one platform queue up instead of deadlocking)."""
    platform = (
        await session.scalars(
            select(SocialAccount.platform).where(
                SocialAccount.account_id == actor.account_id,
                SocialAccount.id == social_account_id,
                SocialAccount.deleted_at.is_(None),
            )
        )
    ).one_or_none()
    siblings = []
    if platform is not None:
        siblings = list(
            await session.scalars(
                select(SocialAccount)
                .where(
                    SocialAccount.account_id == actor.account_id,
                    SocialAccount.platform == platform,
                    SocialAccount.deleted_at.is_(None),
                )
                .order_by(SocialAccount.id)
                .with_for_update()
            )
        )
    target = next((a for a in siblings if a.id == social_account_id), None)
    if target is None:
        raise NotFound("no such social account", code="social_account_not_found")
    return target, siblings


async def set_primary(
    *, session: AsyncSession, actor: Actor, social_account_id: uuid.UUID
) -> ConnectedAccount:
    """Make one account its platform's primary; the previous primary stops being it."""
    target, siblings = await _lock_platform(session, actor, social_account_id)
    if not target.is_primary:
        for sibling in siblings:  # unset first: the unique index allows one live primary
            if sibling.is_primary:
                sibling.is_primary = False
        await session.flush()
        target.is_primary = True
        await session.flush()
    await session.refresh(target)  # version and updated_at are kept by triggers
    return ConnectedAccount(target, await latest_health(session, target.account_id, target.id))


async def disconnect(*, session: AsyncSession, actor: Actor, social_account_id: uuid.UUID) -> None:
    """Soft delete: tokens wiped at once, and revoked at the platform after the commit. A
    disconnected primary hands over to the oldest remaining account of the platform."""
    target, siblings = await _lock_platform(session, actor, social_account_id)
    was_primary = target.is_primary
    await revoke_after_commit(session, target)  # at the platform too, once this commits
    target.deleted_at = dt.datetime.now(dt.UTC)
    target.deleted_by = actor.user_id
    target.access_token_encrypted = None
    target.refresh_token_encrypted = None
    target.token_expires_at = None
    target.is_primary = False
    target.is_active = False
    await session.flush()
    remaining = sorted((a for a in siblings if a is not target), key=lambda a: (a.created_at, a.id))
    new_primary = remaining[0] if was_primary and remaining else None
    if new_primary is not None:
        new_primary.is_primary = True
        await session.flush()
    await record(
        session,
        SocialAccountDisconnected(
            social_account_id=target.id, platform=target.platform,
            new_primary_id=new_primary.id if new_primary is not None else None,
            disconnected_by=actor.user_id,
        ),
        account_id=actor.account_id,
        aggregate_id=target.id,
    )  # fmt: skip
    log.info("social_account_disconnected", social_account_id=str(target.id))


# --- maintenance, as the owner over every account ---------------------------------------------
