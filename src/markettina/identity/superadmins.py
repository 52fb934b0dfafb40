"""What only a superadmin may do on the staff API (read the audit log, manage the staff).
A refused attempt is a staff action too: it is written to the audit log beside the
refused request, whose own transaction rolls back."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.unit_of_work import side_transaction
from markettina.kernel.errors import Forbidden

from .staff import record_staff_action
from .staff_auth import Staff


async def require_superadmin(
    session: AsyncSession,
    *,
    staff: Staff,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    if staff.is_superadmin:
        return
    async with side_transaction(session) as side:
        await record_staff_action(
            side, staff=staff, action=action, target_type=target_type, target_id=target_id,
            details={**(details or {}), "outcome": "refused"},
        )  # fmt: skip
    raise Forbidden("only a superadmin may do this", code="superadmin_required")
