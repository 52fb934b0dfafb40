"""Who belongs to an account, with which role, and how people are invited in.

Every account keeps at least one owner: demoting or removing the last one is refused, with
the owners' rows locked so two owners cannot demote each other at the same moment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.errors import Conflict, Forbidden, NotFound
from markettina.kernel.events import record
from markettina.kernel.pagination import Page, decode_time_cursor, page_of
from markettina.kernel.security import SecretBox, digest, opaque_secret

from .accounts import get_account
from .events import (
    InvitationRevoked,
    MemberInvited,
    MemberJoined,
    MemberRemoved,
    MemberRoleChanged,
)
from .mail import queue_email
from .models import Account, AccountInvitation, AccountMembership, User, UserPermission
from .principal import Actor

INVITATION_TTL = dt.timedelta(days=7)
OWNER = "owner"

_MEMBER_COLUMNS = (
    AccountMembership.id, AccountMembership.created_at, AccountMembership.user_id, User.email,
    User.full_name, AccountMembership.role, AccountMembership.accepted_at,
)  # fmt: skip


@dataclass(frozen=True)
class MemberView:
    """A membership with the person's name and address."""

    id: uuid.UUID
    created_at: dt.datetime
    user_id: int
    email: str
    full_name: str | None
    role: str
    accepted_at: dt.datetime | None


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: AccountInvitation
    token: str  # e-mailed to the invitee; only its digest is stored


# --- members ---------------------------------------------------------------------------------


async def list_members(
    session: AsyncSession, *, actor: Actor, limit: int, cursor: str | None
) -> Page[MemberView]:
    query = (
        select(*_MEMBER_COLUMNS)
        .join(User, User.id == AccountMembership.user_id)
        .where(AccountMembership.account_id == actor.account_id)
        .order_by(AccountMembership.created_at, AccountMembership.id)
        .limit(limit + 1)
    )
    after = decode_time_cursor(cursor)
    if after is not None:
        query = query.where(
            tuple_(AccountMembership.created_at, AccountMembership.id) > tuple_(*after)
        )
    rows = [MemberView(**row._mapping) for row in await session.execute(query)]
    return page_of(rows, limit, lambda r: (r.created_at.isoformat(), r.id))


async def change_role(
    session: AsyncSession, *, actor: Actor, user_id: int, role: str
) -> MemberView:
    """Give a member another role. Owners alone grant or take away the owner role."""
    member, owners = await _lock_member_and_owners(session, actor=actor, user_id=user_id)
    if member.role != role:
        if OWNER in (member.role, role):
            actor.authorize("members:manage_owners")
        if member.role == OWNER:
            _refuse_last_owner(owners, "demote")
        old_role, member.role = member.role, role
        await session.flush()
        await record(
            session,
            MemberRoleChanged(
                user_id=user_id, old_role=old_role, new_role=role, changed_by=actor.user_id
            ),
            account_id=actor.account_id,
            aggregate_id=user_id,
        )
    return await _member_view(session, actor=actor, user_id=user_id)


async def remove_member(session: AsyncSession, *, actor: Actor, user_id: int) -> None:
    """Remove a member (members:manage; owners only for an owner), or leave the account
    yourself; never the last owner. The member's extra grants here go with them."""
    leaving = actor.user_id == user_id
    if not leaving:
        actor.authorize("members:manage")
    member, owners = await _lock_member_and_owners(session, actor=actor, user_id=user_id)
    if member.role == OWNER:
        if not leaving:
            actor.authorize("members:manage_owners")
        _refuse_last_owner(owners, "remove")
    await session.delete(member)
    await session.execute(
        delete(UserPermission).where(
            UserPermission.account_id == actor.account_id, UserPermission.user_id == user_id
        )
    )
    await session.flush()
    await record(
        session,
        MemberRemoved(user_id=user_id, role=member.role, removed_by=actor.user_id),
        account_id=actor.account_id,
        aggregate_id=user_id,
    )


async def _lock_member_and_owners(
    session: AsyncSession, *, actor: Actor, user_id: int
) -> tuple[AccountMembership, list[AccountMembership]]:
    # one statement, rows locked in user_id order: concurrent changes queue up, never deadlock
    rows = (
        await session.execute(
            select(AccountMembership)
            .where(
                AccountMembership.account_id == actor.account_id,
                or_(AccountMembership.role == OWNER, AccountMembership.user_id == user_id),
            )
            .order_by(AccountMembership.user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalars()
    locked = list(rows)
    member = next((m for m in locked if m.user_id == user_id), None)
    if member is None:
        raise NotFound("no such member in this account", code="member_not_found")
    return member, [m for m in locked if m.role == OWNER]


def _refuse_last_owner(owners: list[AccountMembership], action: str) -> None:
    if len(owners) <= 1:
        raise Conflict(
            f"cannot {action} the last owner: make someone else owner first", code="last_owner"
        )


async def _member_view(session: AsyncSession, *, actor: Actor, user_id: int) -> MemberView:
    row = (
        await session.execute(
            select(*_MEMBER_COLUMNS)
            .join(User, User.id == AccountMembership.user_id)
            .where(
                AccountMembership.account_id == actor.account_id,
                AccountMembership.user_id == user_id,
            )
        )
    ).first()
    if row is None:
        raise NotFound("no such member in this account", code="member_not_found")
    return MemberView(**row._mapping)


# --- invitations -----------------------------------------------------------------------------


async def invite(
    session: AsyncSession, *, actor: Actor, email: str, role: str, accept_url: str, box: SecretBox
) -> IssuedInvitation:
    """Invite ``email`` with ``role`` and e-mail them a one-time link to ``accept_url``."""
    if role == OWNER:
        actor.authorize("members:manage_owners")
    account = await get_account(session, actor=actor)
    if await _is_member(session, actor=actor, email=email):
        raise Conflict(f"{email} is already a member of this account", code="already_member")
    await _make_way_for_invitation(session, actor=actor, email=email)

    # the account id travels in the token: acceptance sets the tenant before looking it up
    token = f"{account.id}.{opaque_secret()}"
    invitation = AccountInvitation(
        account_id=account.id,
        email=email,
        role=role,
        token_hash=digest(token),
        invited_by=actor.user_id,
        expires_at=dt.datetime.now(dt.UTC) + INVITATION_TTL,
    )
    session.add(invitation)
    await session.flush()
    await record(
        session,
        MemberInvited(
            invitation_id=invitation.id, email=invitation.email, role=role,
            invited_by=actor.user_id, expires_at=invitation.expires_at,
        ),
        account_id=account.id,
        aggregate_id=invitation.id,
    )  # fmt: skip
    await queue_email(
        session,
        box=box,
        to=email,
        subject=f"You are invited to join {account.name} on Markettina",
        text=(
            f"You have been invited to join {account.name} on Markettina as {role}.\n\n"
            f"Sign in with this e-mail address, then accept the invitation:\n"
            f"{accept_url}?token={token}\n\n"
            f"The link works for {INVITATION_TTL.days} days. "
            "If you did not expect this invitation, ignore this e-mail."
        ),
    )
    return IssuedInvitation(invitation=invitation, token=token)


async def _is_member(session: AsyncSession, *, actor: Actor, email: str) -> bool:
    found = await session.execute(
        select(AccountMembership.id)
        .join(User, User.id == AccountMembership.user_id)
        .where(
            AccountMembership.account_id == actor.account_id,
            func.lower(User.email) == email.lower(),
        )
        .limit(1)
    )
    return found.first() is not None


async def _make_way_for_invitation(session: AsyncSession, *, actor: Actor, email: str) -> None:
    """Refuse while an invitation to ``email`` is pending; one that expired unused is closed
    (marked revoked) so the new one may take its place."""
    open_invitations = (
        await session.execute(
            select(AccountInvitation)
            .where(
                AccountInvitation.account_id == actor.account_id,
                func.lower(AccountInvitation.email) == email.lower(),
                AccountInvitation.accepted_at.is_(None),
                AccountInvitation.revoked_at.is_(None),
            )
            .with_for_update()
        )
    ).scalars()
    now = dt.datetime.now(dt.UTC)
    for invitation in open_invitations:
        if invitation.expires_at > now:
            raise Conflict(
                f"{email} already has a pending invitation; revoke it to send another",
                code="invitation_pending",
            )
        invitation.revoked_at = now
    await session.flush()


async def list_invitations(
    session: AsyncSession, *, actor: Actor, limit: int, cursor: str | None
) -> Page[AccountInvitation]:
    """Pending invitations: neither accepted, revoked nor expired."""
    query = (
        select(AccountInvitation)
        .where(
            AccountInvitation.account_id == actor.account_id,
            AccountInvitation.accepted_at.is_(None),
            AccountInvitation.revoked_at.is_(None),
            AccountInvitation.expires_at > dt.datetime.now(dt.UTC),
        )
        .order_by(AccountInvitation.created_at, AccountInvitation.id)
        .limit(limit + 1)
    )
    after = decode_time_cursor(cursor)
    if after is not None:
        query = query.where(
            tuple_(AccountInvitation.created_at, AccountInvitation.id) > tuple_(*after)
        )
    rows = list((await session.execute(query)).scalars())
    return page_of(rows, limit, lambda i: (i.created_at.isoformat(), i.id))


async def revoke_invitation(
    session: AsyncSession, *, actor: Actor, invitation_id: uuid.UUID
) -> None:
    invitation = (
        await session.execute(
            select(AccountInvitation)
            .where(
                AccountInvitation.account_id == actor.account_id,
                AccountInvitation.id == invitation_id,
                AccountInvitation.accepted_at.is_(None),
                AccountInvitation.revoked_at.is_(None),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if invitation is None:
        raise NotFound("no such pending invitation", code="invitation_not_found")
    if invitation.role == OWNER:
        actor.authorize("members:manage_owners")
    invitation.revoked_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await record(
        session,
        InvitationRevoked(
            invitation_id=invitation.id, email=invitation.email, role=invitation.role,
            revoked_by=actor.user_id,
        ),
        account_id=actor.account_id,
        aggregate_id=invitation.id,
    )  # fmt: skip


async def accept_invitation(
    session: AsyncSession, *, actor: Actor, token: str
) -> AccountMembership:
    """The signed-in person joins the inviting account with the invited role."""
    if actor.principal.kind != "user" or actor.user_id is None:
        raise Forbidden("only a signed-in person can accept an invitation", code="users_only")
    account_id = await _inviting_account(session, token)
    # the invitation is a row of the inviting account, not of the one the caller acts for
    async with tenant_scope(session, account_id):
        return await _join(session, user_id=actor.user_id, token=token, account_id=account_id)


_INVITING_ACCOUNT = text("SELECT identity_invitation_account(:token_hash)")


async def _inviting_account(session: AsyncSession, token: str) -> uuid.UUID:
    """The account whose pending invitation this token is, found by the token's digest
    before any tenant is set (so a token names no account it does not open)."""
    account_id: uuid.UUID | None = await session.scalar(
        _INVITING_ACCOUNT, {"token_hash": digest(token)}
    )
    if account_id is None:
        raise _invitation_not_found()
    return account_id


async def _join(
    session: AsyncSession, *, user_id: int, token: str, account_id: uuid.UUID
) -> AccountMembership:
    now = dt.datetime.now(dt.UTC)
    invitation = (
        await session.execute(
            select(AccountInvitation)
            .join(Account, Account.id == AccountInvitation.account_id)
            .where(
                AccountInvitation.account_id == account_id,
                AccountInvitation.token_hash == digest(token),
                AccountInvitation.accepted_at.is_(None),
                AccountInvitation.revoked_at.is_(None),
                AccountInvitation.expires_at > now,
                Account.deleted_at.is_(None),
            )
            .with_for_update(of=AccountInvitation)
        )
    ).scalar_one_or_none()
    if invitation is None:  # accepted or revoked since the look-up
        raise _invitation_not_found()
    email = (await session.execute(select(User.email).where(User.id == user_id))).scalar_one()
    if email.lower() != invitation.email.lower():
        raise Forbidden(
            "this invitation was sent to another e-mail address",
            code="invitation_for_someone_else",
        )
    already = await session.execute(
        select(AccountMembership.id).where(
            AccountMembership.account_id == account_id, AccountMembership.user_id == user_id
        )
    )
    if already.first() is not None:
        raise Conflict("you are already a member of this account", code="already_member")

    membership = AccountMembership(
        account_id=account_id,
        user_id=user_id,
        role=invitation.role,
        invited_by=invitation.invited_by,
        accepted_at=now,
    )
    session.add(membership)
    invitation.accepted_at = now
    invitation.accepted_by = user_id
    await session.flush()
    await record(
        session,
        MemberJoined(
            user_id=user_id, role=invitation.role, invitation_id=invitation.id,
            invited_by=invitation.invited_by,
        ),
        account_id=account_id,
        aggregate_id=user_id,
    )  # fmt: skip
    return membership


def _invitation_not_found() -> NotFound:
    # unknown, expired, revoked or used: one answer, so a token reveals nothing
    return NotFound("no such invitation, or it is no longer valid", code="invitation_not_found")
