"""Superadmins manage the staff over the API: who is on it (paged by id), and disabling a member or
enabling them again. Disabling ends the member's sessions at once (the session check
refuses a disabled member on every request, and their sessions are revoked as well, so
enabling them again revives none: they sign in anew). A superadmin cannot disable
themselves, so the staff never locks itself out by accident. Every call is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from markettina.kernel.errors import Conflict, NotFound
from markettina.kernel.pagination import Page, bad_cursor, decode_cursor, page_of

from .models import AdminSession, AdminUser
from .staff import record_staff_action
from .staff_auth import Staff
from .superadmins import require_superadmin

STAFF_LIST = "staff.list"
STAFF_DISABLE = "staff.disable"
STAFF_ENABLE = "staff.enable"


@dataclass(frozen=True)
class StaffMemberView:
    id: int
    email: str
    full_name: str | None
    is_superadmin: bool
    is_active: bool
    mfa_enrolled: bool
    last_login_at: dt.datetime | None
    created_at: dt.datetime
    live_sessions: int


async def list_staff_members(
    session: AsyncSession, *, staff: Staff, limit: int, cursor: str | None
) -> Page[StaffMemberView]:
    """The staff members, the first created first."""
    await require_superadmin(session, staff=staff, action=STAFF_LIST)
    live = _live_sessions(AdminUser.id).scalar_subquery()
    query = select(AdminUser, live.label("live")).order_by(AdminUser.id).limit(limit + 1)
    after = _after_id(cursor)
    if after is not None:
        query = query.where(AdminUser.id > after)
    rows = (await session.execute(query)).all()
    page = page_of([_view(member, live_sessions) for member, live_sessions in rows], limit,
                   lambda view: (view.id,))  # fmt: skip
    await record_staff_action(session, staff=staff, action=STAFF_LIST,
                              details={"results": len(page.items)})  # fmt: skip
    return page


def _after_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    (value,) = decode_cursor(cursor, 1)
    if not (value.isascii() and value.isdigit()):
        raise bad_cursor()
    return int(value)


async def set_staff_member_active(
    session: AsyncSession, *, staff: Staff, member_id: int, active: bool
) -> StaffMemberView:
    """Disable (its sessions revoked at once) or enable a staff member; idempotent."""
    action = STAFF_ENABLE if active else STAFF_DISABLE
    target_id = str(member_id)
    await require_superadmin(
        session, staff=staff, action=action, target_type="admin_user", target_id=target_id
    )
    if not active and member_id == staff.admin_user_id:
        raise Conflict("you cannot disable yourself", code="cannot_disable_yourself")
    member = (
        await session.execute(select(AdminUser).where(AdminUser.id == member_id).with_for_update())
    ).scalar_one_or_none()
    if member is None:
        raise NotFound("no such staff member", code="staff_member_not_found")
    changed = member.is_active != active
    ended = 0
    if changed:  # a disabled member's sessions end; an enabled one signs in anew
        revoked = await session.execute(
            update(AdminSession)
            .where(AdminSession.admin_user_id == member_id, AdminSession.revoked_at.is_(None))
            .values(revoked_at=func.now())
            .returning(AdminSession.expires_at > func.now())
        )
        ended = sum(1 for (live,) in revoked.all() if live)
    member.is_active = active
    await session.flush()
    await record_staff_action(
        session, staff=staff, action=action, target_type="admin_user", target_id=target_id,
        details={"changed": changed, "sessions_ended": ended},
    )  # fmt: skip
    # a change revoked every session; otherwise they are as they were
    live_sessions = 0 if changed else await session.scalar(_live_sessions(member_id))
    return _view(member, live_sessions or 0)


def _live_sessions(member: int | ColumnElement[int] | InstrumentedAttribute[int]) -> Select[int]:
    """How many unexpired, unrevoked sessions ``member`` (an id, or a correlated column) has."""
    return select(func.count()).where(
        AdminSession.admin_user_id == member,
        AdminSession.revoked_at.is_(None),
        AdminSession.expires_at > func.now(),
    )


def _view(member: AdminUser, live_sessions: int) -> StaffMemberView:
    return StaffMemberView(
        id=member.id, email=member.email, full_name=member.full_name,
        is_superadmin=member.is_superadmin, is_active=member.is_active,
        mfa_enrolled=member.mfa_secret_encrypted is not None,
        last_login_at=member.last_login_at, created_at=member.created_at,
        live_sessions=live_sessions,
    )  # fmt: skip
