"""One-time links sent by e-mail (verify the address, reset the password): stored only as
a digest, short-lived, and used once."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import FieldError, ValidationFailed
from markettina.kernel.security import digest, opaque_secret

from .mail import queue_email
from .models import User, UserToken

if TYPE_CHECKING:
    from .sign_in import SignInPolicy

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret
LINK_LIFETIMES = {VERIFY_EMAIL: dt.timedelta(hours=24), RESET_PASSWORD: dt.timedelta(hours=1)}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def new_link(session: AsyncSession, *, user_id: int, purpose: str) -> str:
    token = opaque_secret()
    session.add(
        UserToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=digest(token),
            expires_at=_now() + LINK_LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token


async def send_verification(session: AsyncSession, *, user: User, policy: SignInPolicy) -> None:
    token = await new_link(session, user_id=user.id, purpose=VERIFY_EMAIL)
    await queue_email(
        session,
        box=policy.box,
        to=user.email,
        subject="Confirm your e-mail address for Markettina",
        text=(
            "Welcome to Markettina.\n\n"
            "To confirm this is your e-mail address, open this link within 24 hours:\n"
            f"{policy.public_base_url}/verify-email?token={token}\n\n"
            "If you did not sign up, ignore this message.\n"
        ),
    )


async def redeem_link(session: AsyncSession, *, token: str, purpose: str) -> UserToken:
    """The unused, unexpired link of ``purpose`` with this token, now used."""
    link = (
        await session.execute(
            select(UserToken)
            .where(UserToken.token_hash == digest(token), UserToken.purpose == purpose)
            .with_for_update()  # two clicks at once: one wins, the other finds it used
        )
    ).scalar_one_or_none()
    now = _now()
    if link is None:
        raise _bad_link("this link is not valid", "invalid_link")
    if link.used_at is not None:
        raise _bad_link("this link has already been used", "link_used")
    if link.expires_at <= now:
        raise _bad_link("this link has expired; ask for a new one", "link_expired")
    link.used_at = now
    await session.flush()
    return link


def _bad_link(detail: str, code: str) -> ValidationFailed:
    return ValidationFailed(detail, code=code, errors=[FieldError("body.token", detail, code)])
