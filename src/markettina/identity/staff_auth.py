"""Who is calling a staff route: a staff member holding a live staff session.

Staff sessions are opaque tokens (only their digest is kept in ``admin_sessions``), apart
from users' signed access tokens: a user's token matches no staff session, and a staff
token is no signed token with the user audience, so neither works on the other's routes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import Unauthorized
from markettina.kernel.security import digest

from .dependencies import Transaction
from .models import AdminSession, AdminUser
from .sign_in import Client

STAFF_SESSION_TTL = dt.timedelta(hours=8)


@dataclass(frozen=True)
class Staff:
    """A staff member acting through one session, from one client (kept in the audit log)."""

    admin_user_id: int
    email: str
    is_superadmin: bool
    session_id: uuid.UUID
    client: Client


def staff_bearer(authorization: str | None) -> str:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized(
            "staff routes need `Authorization: Bearer <staff session token>`",
            code="staff_sign_in_required",
        )
    return value.strip()


async def resolve_staff(session: AsyncSession, *, token: str, client: Client) -> Staff:
    """The active staff member whose unexpired, unrevoked session ``token`` opens."""
    row = (
        await session.execute(
            select(AdminSession, AdminUser)
            .join(AdminUser, AdminUser.id == AdminSession.admin_user_id)
            .where(AdminSession.token_hash == digest(token))
        )
    ).first()
    if row is None:
        raise Unauthorized("the staff session is not valid", code="invalid_staff_session")
    staff_session, member = row
    if staff_session.revoked_at is not None:
        raise Unauthorized("the staff session has ended", code="staff_session_revoked")
    if staff_session.expires_at <= dt.datetime.now(dt.UTC):
        raise Unauthorized(
            "the staff session has expired; sign in again", code="staff_session_expired"
        )
    if not member.is_active:
        raise Unauthorized("this staff member has been disabled", code="invalid_staff_session")
    return Staff(
        admin_user_id=member.id,
        email=member.email,
        is_superadmin=member.is_superadmin,
        session_id=staff_session.id,
        client=client,
    )


def _client(request: Request, user_agent: Annotated[str | None, Header()] = None) -> Client:
    host = request.client.host if request.client else None
    return Client.of(user_agent=user_agent, host=host)


RequestClient = Annotated[Client, Depends(_client)]


async def _staff(
    session: Transaction,
    client: RequestClient,
    authorization: Annotated[str | None, Header()] = None,
) -> Staff:
    return await resolve_staff(session, token=staff_bearer(authorization), client=client)


StaffMember = Annotated[Staff, Depends(_staff)]
