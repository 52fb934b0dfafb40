"""Sign-in: registration, e-mail verification, sessions, password reset and one's profile.

A session is a family of refresh tokens. Each refresh uses its token up (``used_at``) and
issues the next in the same family; a token presented again means it was stolen or copied,
so the whole family is revoked, and every access token of the family stops with it (the
request pipeline requires a live row of the family). One-time links (verify the address,
reset the password) are stored as digests, expire, and are used once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.billing.public import register_referral
from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.db.unit_of_work import side_transaction
from markettina.kernel.errors import (
    Conflict,
    FieldError,
    Forbidden,
    Unauthorized,
    ValidationFailed,
)
from markettina.kernel.events import record
from markettina.kernel.logs import get_logger
from markettina.kernel.security import (
    SecretBox,
    digest,
    hash_password,
    issue_token,
    opaque_secret,
    password_needs_rehash,
    verify_password,
)
from markettina.settings import Settings

from .events import AccountCreated
from .links import RESET_PASSWORD, VERIFY_EMAIL, new_link, redeem_link, send_verification
from .lockout import (
    LockoutPolicy,
    client_key,
    count_failure,
    forget_failures,
    lock_of,
    refuse_if_locked,
)
from .mail import queue_email
from .models import Account, AccountMembership, RefreshToken, User, UserToken
from .principal import ACCESS_AUDIENCE, Actor
from .user_sessions import end_sessions, person, revoke_tokens

log = get_logger(__name__)

USER_AGENT_MAX = 512
SLUG_BASE_MAX = 40
SLUG_TRIES = 6
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SignInPolicy:
    secret_key: str
    box: SecretBox  # encrypts the e-mails that carry a link
    access_ttl: dt.timedelta
    refresh_ttl: dt.timedelta
    lockout: LockoutPolicy
    public_base_url: str

    @classmethod
    def from_settings(cls, settings: Settings, *, secret_key: str, box: SecretBox) -> SignInPolicy:
        return cls(
            secret_key=secret_key,
            box=box,
            access_ttl=dt.timedelta(minutes=settings.access_token_minutes),
            refresh_ttl=dt.timedelta(days=settings.refresh_token_days),
            lockout=LockoutPolicy.from_settings(settings),
            public_base_url=settings.public_base_url.rstrip("/"),
        )


@dataclass(frozen=True)
class Client:
    """Where a session was opened from, kept on its refresh tokens."""

    user_agent: str | None = None
    ip: str | None = None

    @classmethod
    def of(cls, *, user_agent: str | None, host: str | None) -> Client:
        try:
            ip = str(ipaddress.ip_address(host)) if host else None
        except ValueError:
            ip = None
        return cls(user_agent=user_agent[:USER_AGENT_MAX] if user_agent else None, ip=ip)


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    refresh_token: str  # shown once; only its digest is kept
    expires_in: int
    account_id: uuid.UUID


@dataclass(frozen=True)
class Registered:
    user: User
    account: Account
    session: SignedIn


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _invalid_credentials() -> Unauthorized:
    # one answer for an unknown address and a wrong password
    return Unauthorized("the e-mail address or the password is wrong", code="invalid_credentials")


# --- registration and verification ----------------------------------------------------------


async def register(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    full_name: str | None,
    policy: SignInPolicy,
    client: Client,
    referral_code: str | None = None,
) -> Registered:
    """The person, their own account, its owner membership and token wallet, a verification
    e-mail and a first session, and the referral when a code is given (an invalid code is
    422 naming ``referral_code``): all in the caller's one transaction."""
    if await _user_by_email(session, email) is not None:
        raise Conflict(
            "this e-mail address is already registered",
            code="email_taken",
            errors=[FieldError("body.email", "already registered", "unique")],
        )
    user = User(email=email, password_hash=await _hash(password), full_name=full_name)
    session.add(user)
    await session.flush()  # a race with the same address ends here, 409 by uq_users_email
    await session.refresh(user)
    account = await _new_account(session, name=full_name or email, slug_base=_slug_base(email))
    async with tenant_scope(session, account.id):  # the new account's rows from here on
        session.add(
            AccountMembership(
                account_id=account.id, user_id=user.id, role="owner", accepted_at=_now()
            )
        )
        # balances belong to the ledger's trigger: the app may write only these two columns
        await session.execute(
            text("INSERT INTO token_wallets (account_id, user_id) VALUES (:account_id, :user_id)"),
            {"account_id": account.id, "user_id": user.id},
        )
        await record(
            session,
            AccountCreated(
                account_id=account.id, user_id=user.id, name=account.name, slug=account.slug,
                plan_tier=account.plan_tier,
            ),
            account_id=account.id,
            aggregate_id=account.id,
            aggregate_version=account.version,
        )  # fmt: skip
        if referral_code is not None:
            await register_referral(
                session,
                code=referral_code,
                referred_account_id=account.id,
                referred_user_id=user.id,
            )
        await send_verification(session, user=user, policy=policy)
        signed_in = await _open_session(
            session, user_id=user.id, account_id=account.id, policy=policy, client=client
        )
    log.info("user_registered", user_id=user.id, account_id=str(account.id))
    return Registered(user=user, account=account, session=signed_in)


async def verify_email(session: AsyncSession, *, token: str) -> None:
    link = await redeem_link(session, token=token, purpose=VERIFY_EMAIL)
    await session.execute(update(User).where(User.id == link.user_id).values(is_verified=True))


async def resend_verification(session: AsyncSession, *, actor: Actor, policy: SignInPolicy) -> None:
    user = await _user(session, person(actor))
    if user.is_verified:
        raise Conflict("the e-mail address is already verified", code="already_verified")
    await send_verification(session, user=user, policy=policy)


# --- sessions -------------------------------------------------------------------------------


async def login(
    session: AsyncSession, *, email: str, password: str, policy: SignInPolicy, client: Client
) -> SignedIn:
    """Locked out (from this client, or from all) before the password is even checked."""
    address = client_key(client.ip)
    found = (
        await session.execute(
            select(User, lock_of(User.id, address)).where(func.lower(User.email) == email.lower())
        )
    ).one_or_none()
    user = found[0] if found else None
    if found is not None:
        refuse_if_locked(found[1])
    # checked even for an unknown address, against a dummy hash: the time taken tells nothing
    matches = await _password_matches(password, user.password_hash if user else None)
    if user is None or not matches:
        if user is not None:
            await count_failure(session, user_id=user.id, client=address, policy=policy.lockout)
        raise _invalid_credentials()
    if not user.is_active:
        raise Forbidden("this user has been disabled", code="user_disabled")
    account_id = await _home_account(session, user.id)
    await forget_failures(session, user_id=user.id, client=address)
    user.last_login_at = _now()
    if user.password_hash is not None and password_needs_rehash(user.password_hash):
        user.password_hash = await _hash(password)
    return await _open_session(
        session, user_id=user.id, account_id=account_id, policy=policy, client=client
    )


async def refresh(
    session: AsyncSession, *, refresh_token: str, policy: SignInPolicy, client: Client
) -> SignedIn:
    """Use the token up and issue the next of its family; a token seen twice ends the family."""
    token = (
        await session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == digest(refresh_token))
        )
    ).scalar_one_or_none()
    if token is None:
        raise Unauthorized("the refresh token is not valid", code="invalid_refresh_token")
    if token.used_at is not None or token.revoked_at is not None:
        await _revoke_reused_family(session, token)
    now = _now()
    if token.expires_at <= now:
        raise Unauthorized("the session has expired; sign in again", code="refresh_token_expired")
    claimed = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == token.id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .returning(RefreshToken.id)
    )
    if claimed.first() is None:  # another request used it between our read and our write
        await _revoke_reused_family(session, token)
    user = await _user(session, token.user_id)
    if not user.is_active:
        raise Unauthorized("the user has been disabled", code="invalid_refresh_token")
    return await _open_session(
        session,
        user_id=user.id,
        account_id=token.session_account_id,
        policy=policy,
        client=client,
        family=token.family_id,
    )


async def logout(session: AsyncSession, *, actor: Actor) -> None:
    """End the caller's session: every token of its family, and the access tokens with them."""
    await revoke_tokens(
        session,
        RefreshToken.user_id == person(actor),
        RefreshToken.family_id == actor.principal.session_family,
    )


# --- password reset -------------------------------------------------------------------------


async def request_password_reset(
    session: AsyncSession, *, email: str, policy: SignInPolicy
) -> None:
    """Send a reset link if the address is a user's; the caller answers the same either way."""
    user = await _user_by_email(session, email)
    if user is None or not user.is_active:
        return
    token = await new_link(session, user_id=user.id, purpose=RESET_PASSWORD)
    await queue_email(
        session,
        box=policy.box,
        to=user.email,
        subject="Reset your Markettina password",
        text=(
            "Someone asked to reset the password of your Markettina account.\n\n"
            f"To choose a new password, open this link within the hour:\n"
            f"{policy.public_base_url}/reset-password?token={token}\n\n"
            "If it was not you, ignore this message: your password stays as it is.\n"
        ),
    )


async def reset_password(session: AsyncSession, *, token: str, new_password: str) -> None:
    """Set the new password and end every session of the person."""
    link = await redeem_link(session, token=token, purpose=RESET_PASSWORD)
    now = _now()
    # the link proves the address, and ends any lock the forgotten password caused
    await session.execute(
        update(User)
        .where(User.id == link.user_id)
        .values(password_hash=await _hash(new_password), is_verified=True)
    )
    await forget_failures(session, user_id=link.user_id, client=None)
    await session.execute(
        update(UserToken)
        .where(
            UserToken.user_id == link.user_id,
            UserToken.purpose == RESET_PASSWORD,
            UserToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    await end_sessions(session, user_id=link.user_id)


# --- profile --------------------------------------------------------------------------------


async def get_profile(session: AsyncSession, *, actor: Actor) -> User:
    return await _user(session, person(actor))


async def update_profile(
    session: AsyncSession,
    *,
    actor: Actor,
    full_name: str | None,
    current_password: str | None,
    new_password: str | None,
    policy: SignInPolicy,
    client: Client,
) -> User:
    """Rename; change the password with the current one (the person's other sessions end).
    Wrong current passwords count, and lock, as failed sign-ins from ``client`` do."""
    user = await _user(session, person(actor))
    if new_password is not None:
        if current_password is None:
            raise ValidationFailed(
                "give the current password to set a new one",
                errors=[
                    FieldError("body.current_password", "required with new_password", "missing")
                ],
            )
        # before any change to the user row: a failure is counted beside this transaction
        await _check_password(
            session, user=user, password=current_password, policy=policy, client=client
        )
        user.password_hash = await _hash(new_password)
        await end_sessions(session, user_id=user.id, keep=actor.principal.session_family)
    if full_name is not None:
        user.full_name = full_name
    await session.flush()
    return user


# --- the parts ------------------------------------------------------------------------------


async def _hash(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)  # argon2 is slow on purpose


async def _password_matches(password: str, password_hash: str | None) -> bool:
    return await asyncio.to_thread(verify_password, password, password_hash)


async def _user(session: AsyncSession, user_id: int) -> User:
    return (await session.execute(select(User).where(User.id == user_id))).scalar_one()


async def _user_by_email(session: AsyncSession, email: str) -> User | None:
    return (
        await session.execute(select(User).where(func.lower(User.email) == email.lower()))
    ).scalar_one_or_none()


async def _check_password(
    session: AsyncSession, *, user: User, password: str, policy: SignInPolicy, client: Client
) -> None:
    address = client_key(client.ip)
    refuse_if_locked(await session.scalar(select(lock_of(user.id, address))))
    if not await _password_matches(password, user.password_hash):
        await count_failure(session, user_id=user.id, client=address, policy=policy.lockout)
        raise Forbidden(
            "the current password is wrong",
            code="wrong_password",
            errors=[FieldError("body.current_password", "not your current password", "wrong")],
        )


async def _revoke_reused_family(session: AsyncSession, token: RefreshToken) -> NoReturn:
    """A refresh token presented again: stolen or copied. End its family, then refuse."""
    async with side_transaction(session) as side:
        await revoke_tokens(side, RefreshToken.family_id == token.family_id)
    log.warning("refresh_token_reused", user_id=token.user_id, family_id=str(token.family_id))
    raise Unauthorized(
        "this refresh token was already used; the session has been ended",
        code="refresh_token_reused",
    )


async def _home_account(session: AsyncSession, user_id: int) -> uuid.UUID:
    """The account a new session acts for: the person's first, unless it is suspended."""
    memberships = (
        await session.execute(
            text("SELECT account_id, suspended FROM identity_memberships(:user_id)"),
            {"user_id": user_id},
        )
    ).all()
    if not memberships:
        raise Forbidden("you are not a member of any account", code="no_account")
    for membership in memberships:
        if not membership.suspended:
            return uuid.UUID(str(membership.account_id))
    raise Forbidden("the account is suspended", code="account_suspended")


async def _open_session(
    session: AsyncSession,
    *,
    user_id: int,
    account_id: uuid.UUID,
    policy: SignInPolicy,
    client: Client,
    family: uuid.UUID | None = None,
) -> SignedIn:
    """A refresh token (a new family, or the next of ``family``) and its access token."""
    family = family or uuid.uuid4()
    refresh_token = opaque_secret()
    session.add(
        RefreshToken(
            user_id=user_id,
            session_account_id=account_id,
            family_id=family,
            token_hash=digest(refresh_token),
            expires_at=_now() + policy.refresh_ttl,
            user_agent=client.user_agent,
            ip=client.ip,
        )
    )
    await session.flush()
    access_token = issue_token(
        secret=policy.secret_key,
        subject=str(user_id),
        audience=ACCESS_AUDIENCE,
        ttl=policy.access_ttl,
        typ="access",
        acc=str(account_id),
        fam=str(family),
    )
    return SignedIn(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=int(policy.access_ttl.total_seconds()),
        account_id=account_id,
    )


def _slug_base(email: str) -> str:
    local = email.rpartition("@")[0].lower()
    return _SLUG_JUNK.sub("-", local).strip("-")[:SLUG_BASE_MAX].strip("-") or "account"


async def _new_account(session: AsyncSession, *, name: str, slug_base: str) -> Account:
    """An account whose slug is the base, or the base and a short random suffix if taken."""
    for attempt in range(SLUG_TRIES):
        slug = slug_base if attempt == 0 else f"{slug_base}-{secrets.token_hex(3)}"
        account = (
            await session.execute(
                pg_insert(Account)
                .values(name=name, slug=slug)
                .on_conflict_do_nothing(index_elements=[Account.slug])
                .returning(Account)
            )
        ).scalar_one_or_none()
        if account is not None:
            return account
    raise Conflict("no free account slug was found; try again", code="slug_unavailable")
