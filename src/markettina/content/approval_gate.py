"""The approval gate posts pass before they may be scheduled: a port the workflow context
implements (an account that requires approval for posts), bound by the entry points at
start like the other ports. Until one is bound, no post needs approval.

The gate judges a post's *content version* (``content_versions.version_number``): an
approval covers the words approved, so an edit asks again, while a new time or new social
accounts do not.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class ApprovalGate(Protocol):
    async def approved(
        self,
        session: AsyncSession,
        *,
        account_id: uuid.UUID,
        post_id: int,
        content_version: int,
    ) -> bool:
        """True when this content version of the post may be scheduled: the account needs
        no approval for posts, or this version was approved. Runs in the caller's
        transaction, as the post's account; never commits."""
        ...


class NoApprovalRequired:
    """The gate while no approval workflow is bound: every post may be scheduled."""

    async def approved(
        self,
        session: AsyncSession,
        *,
        account_id: uuid.UUID,
        post_id: int,
        content_version: int,
    ) -> bool:
        return True


_gate: ApprovalGate = NoApprovalRequired()


def bind_approval_gate(gate: ApprovalGate) -> None:
    global _gate
    _gate = gate


def approval_gate() -> ApprovalGate:
    return _gate
