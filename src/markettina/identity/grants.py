"""Grants beyond a member's role (user_permissions): one permission on a resource type or
on one resource, maybe expiring. ``Actor.authorize`` honours them when a route names the
resource it acts on; they never widen a check made without a resource."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.keyset import newest_first
from markettina.kernel.errors import FieldError, Forbidden, NotFound, ValidationFailed
from markettina.kernel.pagination import Page, page_of

from .models import AccountMembership, UserPermission
from .principal import Actor


async def _is_member(session: AsyncSession, *, account_id: uuid.UUID, user_id: int) -> bool:
    found = await session.execute(
        select(AccountMembership.id).where(
            AccountMembership.account_id == account_id, AccountMembership.user_id == user_id
        )
    )
    return found.first() is not None


async def grant_permission(
    *,
    session: AsyncSession,
    actor: Actor,
    user_id: int,
    permission: str,
    resource_type: str,
    resource_id: uuid.UUID | None,
    expires_at: dt.datetime | None,
) -> UserPermission:
    if permission not in actor.permissions:  # nobody hands out more than they hold
        raise Forbidden(
            f"you cannot grant {permission}: you do not hold it",
            code="grant_exceeds_role",
            errors=[FieldError("body.permission", "more than you may do", "grant_exceeds_role")],
        )
    if not await _is_member(session, account_id=actor.account_id, user_id=user_id):
        raise ValidationFailed(
            "grants go to members of the account",
            code="not_a_member",
            errors=[FieldError("body.user_id", "not a member of this account", "not_a_member")],
        )
    # an expired grant is as good as none: it must not block granting the same again
    await session.execute(
        delete(UserPermission).where(
            UserPermission.account_id == actor.account_id,
            UserPermission.user_id == user_id,
            UserPermission.permission == permission,
            UserPermission.resource_type == resource_type,
            UserPermission.resource_id.is_not_distinct_from(resource_id),
            UserPermission.expires_at <= dt.datetime.now(dt.UTC),
        )
    )
    grant = UserPermission(
        account_id=actor.account_id,
        user_id=user_id,
        permission=permission,
        resource_type=resource_type,
        resource_id=resource_id,
        expires_at=expires_at,
        granted_by=actor.user_id,
    )
    session.add(grant)
    await session.flush()  # the same live grant twice: unique violation, a 409
    await session.refresh(grant)
    return grant


async def list_grants(
    *,
    session: AsyncSession,
    actor: Actor,
    user_id: int | None,
    limit: int,
    cursor: str | None,
) -> Page[UserPermission]:
    query = select(UserPermission).where(UserPermission.account_id == actor.account_id)
    if user_id is not None:
        query = query.where(UserPermission.user_id == user_id)
    query = newest_first(
        query, at=UserPermission.granted_at, id_=UserPermission.id, limit=limit, cursor=cursor
    )
    rows = list((await session.execute(query)).scalars())
    return page_of(rows, limit, lambda grant: (grant.granted_at.isoformat(), grant.id))


async def revoke_grant(*, session: AsyncSession, actor: Actor, grant_id: uuid.UUID) -> None:
    removed = await session.execute(
        delete(UserPermission)
        .where(UserPermission.account_id == actor.account_id, UserPermission.id == grant_id)
        .returning(UserPermission.id)
    )
    if removed.first() is None:
        raise NotFound("no such grant", code="grant_not_found")
