"""Posts for tests: actors, social accounts, and a gate that requires approval."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.content import approval_gate
from markettina.identity.permissions import ROLE_PERMISSIONS
from markettina.identity.principal import Actor, Principal
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import sql
from tests.support.identity import Member


def actor_of(member: Member) -> Actor:
    principal = Principal(kind="user", home_account_id=member.account_id, user_id=member.user_id)
    return Actor(principal=principal, account_id=member.account_id, role=member.role,
                 permissions=ROLE_PERMISSIONS[member.role])  # fmt: skip


def new_social_account(
    urls: DatabaseURLs, account_id: uuid.UUID, platform: str = "instagram", *,
    active: bool = True,
) -> uuid.UUID:  # fmt: skip
    (row,) = sql(
        urls,
        "INSERT INTO social_accounts (account_id, platform, platform_user_id, is_active) "
        "VALUES (%s, %s, %s, %s) RETURNING id",
        account_id, platform, uuid.uuid4().hex, active,
    )  # fmt: skip
    return row[0]  # type: ignore[no-any-return]


@dataclass
class ApprovalRequired:
    """A gate for an account that requires approval: passes only the versions approved."""

    approvals: set[tuple[int, int]] = field(default_factory=set)
    asked: list[tuple[int, int]] = field(default_factory=list)

    async def approved(
        self, session: AsyncSession, *, account_id: uuid.UUID, post_id: int, content_version: int
    ) -> bool:
        self.asked.append((post_id, content_version))
        return (post_id, content_version) in self.approvals


@contextmanager
def gate_bound(gate: approval_gate.ApprovalGate) -> Iterator[None]:
    previous = approval_gate.approval_gate()
    approval_gate.bind_approval_gate(gate)
    try:
        yield
    finally:
        approval_gate.bind_approval_gate(previous)
