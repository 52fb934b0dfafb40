"""The staff audit log, read back: who did what, to what, from where, newest first.

Superadmins only: the log holds every staff member's addresses and searches. Reading it
is a staff action like any other, written to the log after the read (so a page never
shows its own reading); a refused attempt is written too, beside the refused request.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.keyset import newest_first
from markettina.kernel.pagination import Page, page_of

from .models import AdminAuditLog, AdminUser
from .staff import record_staff_action
from .staff_auth import Staff
from .superadmins import require_superadmin

AUDIT_LOG_SEARCH = "audit_log.search"
ANY_SUFFIX = ".*"  # an action pattern ending so matches every action under its prefix


@dataclass(frozen=True)
class AuditFilter:
    admin_user_id: int | None = None
    action: str | None = None  # exact, or "<prefix>.*"
    target_type: str | None = None
    target_id: str | None = None
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditEntry:
    id: uuid.UUID
    admin_user_id: int
    admin_email: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    ip: str | None
    created_at: dt.datetime


async def search_audit_log(
    session: AsyncSession, *, staff: Staff, where: AuditFilter, limit: int, cursor: str | None
) -> Page[AuditEntry]:
    searched = {k: v.isoformat() if isinstance(v, dt.datetime) else v
                for k, v in asdict(where).items() if v is not None}  # fmt: skip
    await require_superadmin(session, staff=staff, action=AUDIT_LOG_SEARCH, details=searched)
    query = newest_first(
        select(AdminAuditLog, AdminUser.email)
        .join(AdminUser, AdminUser.id == AdminAuditLog.admin_user_id)
        .where(*_conditions(where)),
        at=AdminAuditLog.created_at,
        id_=AdminAuditLog.id,
        limit=limit,
        cursor=cursor,
    )
    entries = [_entry(row, email) for row, email in (await session.execute(query)).all()]
    page = page_of(entries, limit, lambda e: (e.created_at.isoformat(), e.id))
    await record_staff_action(session, staff=staff, action=AUDIT_LOG_SEARCH,
                              details={**searched, "results": len(page.items)})  # fmt: skip
    return page


def _conditions(where: AuditFilter) -> list[Any]:
    conditions: list[Any] = []
    if where.admin_user_id is not None:
        conditions.append(AdminAuditLog.admin_user_id == where.admin_user_id)
    if where.action is not None:
        if where.action.endswith(ANY_SUFFIX):
            # the pattern's prefix holds letters, digits, "_" and "." only: "_" is escaped
            prefix = where.action[: -len(ANY_SUFFIX)].replace("_", "\\_")
            conditions.append(AdminAuditLog.action.like(prefix + ".%", escape="\\"))
        else:
            conditions.append(AdminAuditLog.action == where.action)
    if where.target_type is not None:
        conditions.append(AdminAuditLog.target_type == where.target_type)
    if where.target_id is not None:
        conditions.append(AdminAuditLog.target_id == where.target_id)
    if where.since is not None:
        conditions.append(AdminAuditLog.created_at >= where.since)
    if where.until is not None:
        conditions.append(AdminAuditLog.created_at < where.until)
    return conditions


def _entry(row: AdminAuditLog, email: str) -> AuditEntry:
    return AuditEntry(
        id=row.id, admin_user_id=row.admin_user_id, admin_email=email, action=row.action,
        target_type=row.target_type, target_id=row.target_id, details=row.details,
        ip=None if row.ip is None else str(row.ip), created_at=row.created_at,
    )  # fmt: skip
