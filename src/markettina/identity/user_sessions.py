"""A person's sessions: one per sign-in, a family of rotating refresh tokens. Where they
are signed in, and ending one of them or all the others.

A session is live while its newest refresh token is neither used, revoked nor expired.
Ending it revokes the whole family, which stops its access tokens at once too (the
pipeline checks the family on every request). Sessions belong to the person, not to an
account: nobody else sees or ends them, whatever their role.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from markettina.kernel.errors import Forbidden, NotFound
from markettina.kernel.pagination import Page, decode_time_cursor, page_of

from .models import RefreshToken
from .principal import Actor


@dataclass(frozen=True)
class SessionView:
    id: uuid.UUID  # the refresh-token family
    current: bool  # the session of the request
    account_id: uuid.UUID  # the account it signed in to
    signed_in_at: dt.datetime
    last_active_at: dt.datetime  # its last sign-in or refresh
    expires_at: dt.datetime  # unless refreshed before
    user_agent: str | None
    ip: str | None


def person(actor: Actor) -> int:
    """The signed-in person behind a request; an API key has no profile and no session."""
    if actor.principal.kind != "user" or actor.user_id is None:
        raise Forbidden("only a signed-in person has a profile and a session", code="not_a_user")
    return actor.user_id


async def list_sessions(
    session: AsyncSession, *, actor: Actor, limit: int, cursor: str | None
) -> Page[SessionView]:
    """The person's live sessions, the most recent sign-in first."""
    user_id = person(actor)
    family = aliased(RefreshToken)
    signed_in_at = (
        select(func.min(family.issued_at))
        .where(family.family_id == RefreshToken.family_id)
        .scalar_subquery()
    )
    live = (
        select(
            RefreshToken.family_id,
            RefreshToken.session_account_id,
            signed_in_at.label("signed_in_at"),
            RefreshToken.issued_at,
            RefreshToken.expires_at,
            RefreshToken.user_agent,
            RefreshToken.ip,
        )
        .where(
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_(None),
            RefreshToken.used_at.is_(None),
            RefreshToken.expires_at > func.now(),
        )
        .ext(distinct_on(RefreshToken.family_id))
        .order_by(RefreshToken.family_id, RefreshToken.issued_at.desc())
        .subquery()
    )
    query = (
        select(live).order_by(live.c.signed_in_at.desc(), live.c.family_id.desc()).limit(limit + 1)
    )
    after = decode_time_cursor(cursor)
    if after is not None:
        query = query.where(tuple_(live.c.signed_in_at, live.c.family_id) < tuple_(*after))
    current = actor.principal.session_family
    views = [_view(row, current) for row in await session.execute(query)]
    return page_of(views, limit, lambda v: (v.signed_in_at.isoformat(), v.id))


async def end_session(session: AsyncSession, *, actor: Actor, session_id: uuid.UUID) -> None:
    """End one of the person's sessions (the current one too: that is signing out).
    Idempotent; another person's session, or an API key's request, is not found."""
    if actor.principal.kind != "user" or actor.user_id is None:
        raise _not_found()
    known = await session.scalar(
        select(RefreshToken.id)
        .where(RefreshToken.user_id == actor.user_id, RefreshToken.family_id == session_id)
        .limit(1)
    )
    if known is None:
        raise _not_found()
    await revoke_tokens(
        session, RefreshToken.user_id == actor.user_id, RefreshToken.family_id == session_id
    )


async def end_other_sessions(session: AsyncSession, *, actor: Actor) -> int:
    """End every session of the person but the request's; how many were live."""
    return await end_sessions(session, user_id=person(actor), keep=actor.principal.session_family)


async def end_sessions(
    session: AsyncSession, *, user_id: int, keep: uuid.UUID | None = None
) -> int:
    """End every session of the person, but the one ``keep`` names; how many were live."""
    others = [] if keep is None else [RefreshToken.family_id != keep]
    return await revoke_tokens(session, RefreshToken.user_id == user_id, *others)


async def revoke_tokens(session: AsyncSession, *where: ColumnElement[bool]) -> int:
    """Revoke the refresh tokens ``where`` says; the number of live sessions it ended."""
    live = RefreshToken.used_at.is_(None) & (RefreshToken.expires_at > func.now())
    revoked = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.revoked_at.is_(None), *where)
        .values(revoked_at=func.now())
        .returning(RefreshToken.family_id, live.label("live"))
    )
    return len({row.family_id for row in revoked if row.live})


def _view(row: Any, current: uuid.UUID | None) -> SessionView:
    return SessionView(
        id=row.family_id, current=row.family_id == current,
        account_id=row.session_account_id, signed_in_at=row.signed_in_at,
        last_active_at=row.issued_at, expires_at=row.expires_at,
        user_agent=row.user_agent, ip=None if row.ip is None else str(row.ip),
    )  # fmt: skip


def _not_found() -> NotFound:
    return NotFound("no such session", code="session_not_found")
