"""Scheduling posts: at a future instant, in an IANA time zone, on chosen social accounts
of the account, through the approval gate (a post it does not pass waits in
``pending_approval``); rescheduling is scheduling again; cancelling."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import Actor
from markettina.kernel.errors import FieldError, ValidationFailed
from markettina.kernel.events import record

from .approval_gate import approval_gate
from .errors import IllegalPostTransition, PostAwaitingApproval
from .events import PostCancelled, PostScheduled
from .models import ScheduledPost
from .post_drafts import (
    check_version,
    find_post,
    get_post,
    record_approval_request,
    update_post_row,
)
from .post_snapshots import latest_version_number
from .post_states import check_transition
from .post_targets import checked_platforms, replace_targets, target_ids
from .time_zones import zone_names

# the statuses a post can be scheduled from (again)
SCHEDULABLE = frozenset({"draft", "pending_approval", "scheduled", "failed"})


def checked_timezone(name: str, field: str = "body.timezone") -> str:
    """``name`` if it is an IANA time zone (``Europe/Rome``), else 422 naming ``field``."""
    if name not in zone_names():
        raise ValidationFailed(
            f"{name!r} is not an IANA time zone (such as Europe/Rome)",
            errors=[FieldError(field, "not an IANA time zone", "unknown_timezone")],
        )
    return name


def checked_future(at: dt.datetime, field: str = "body.scheduled_at") -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationFailed(
            "a schedule time needs its UTC offset",
            errors=[FieldError(field, "no UTC offset", "naive_time")],
        )
    if at <= dt.datetime.now(dt.UTC):
        raise ValidationFailed(
            "a post can only be scheduled in the future",
            errors=[FieldError(field, "not in the future", "in_the_past")],
        )
    return at.astimezone(dt.UTC)


async def schedule_post(
    session: AsyncSession,
    *,
    actor: Actor,
    post_id: int,
    at: dt.datetime,
    timezone: str,
    social_account_ids: Sequence[uuid.UUID],
    expected_version: int | None = None,
) -> ScheduledPost:
    """Schedule (or reschedule) the post for ``at`` on ``social_account_ids``.

    The approval gate judges the post's current content: passed, the post is
    ``scheduled``; not passed, it waits in ``pending_approval`` with the time and accounts
    asked for (asking again while it waits only updates them). Nothing skips the gate: this
    is the only way into ``scheduled``, with ``release_approved_post``, which asks it too.
    """
    post = await get_post(session, actor=actor, post_id=post_id, lock=True)
    check_version(post, expected_version)
    return await schedule_locked_post(
        session, actor=actor, post=post, at=at, timezone=timezone,
        social_account_ids=social_account_ids,
    )  # fmt: skip


async def schedule_locked_post(
    session: AsyncSession,
    *,
    actor: Actor,
    post: ScheduledPost,
    at: dt.datetime,
    timezone: str,
    social_account_ids: Sequence[uuid.UUID],
    content_version: int | None = None,
    publishable: Mapping[uuid.UUID, str] | None = None,
) -> ScheduledPost:
    """``schedule_post`` for a post the caller holds: read with its row lock in this
    transaction, or just created by it (``create_post``: no one else sees it yet, and its
    ``content_version`` is 1). ``publishable``: the account's publishable social accounts
    the caller read once for many posts (``post_targets.publishable_among``)."""
    if post.status not in SCHEDULABLE:
        raise IllegalPostTransition(post.status, "scheduled")
    zone = checked_timezone(timezone)
    when = checked_future(at)
    platforms = await checked_platforms(
        session, account_id=actor.account_id, social_account_ids=social_account_ids,
        publishable=publishable,
    )  # fmt: skip
    chosen = list(platforms)
    number = content_version or await latest_version_number(
        session, account_id=actor.account_id, post_id=post.id
    )
    approved = await approval_gate().approved(
        session, account_id=actor.account_id, post_id=post.id, content_version=number
    )
    status = "scheduled" if approved else "pending_approval"
    check_transition(post.status, status)
    was = post.status
    await replace_targets(
        session, account_id=actor.account_id, post_id=post.id, social_account_ids=chosen
    )
    updated = await update_post_row(
        session,
        post,
        {
            "status": status, "scheduled_at": when, "timezone": zone,
            "platforms": sorted(set(platforms.values())), "error_message": None,
        },
    )  # fmt: skip
    if approved:
        await _record_scheduled(session, actor.user_id, updated, chosen, rescheduled=was == status)
    elif was != "pending_approval":
        await record_approval_request(session, actor=actor, post=updated, number=number)
    return updated


async def release_approved_post(
    session: AsyncSession, *, account_id: uuid.UUID, post_id: int
) -> ScheduledPost:
    """Move a post waiting for approval to ``scheduled`` once the gate passes it (for the
    approval workflow, when it approves; 409 ``approval_pending`` while the gate does not).
    A time that passed meanwhile publishes at the publisher's next round."""
    post = await find_post(session, account_id=account_id, post_id=post_id, lock=True)
    if post.status != "pending_approval":
        raise IllegalPostTransition(post.status, "scheduled")
    number = await latest_version_number(session, account_id=account_id, post_id=post.id)
    if not await approval_gate().approved(
        session, account_id=account_id, post_id=post.id, content_version=number
    ):
        raise PostAwaitingApproval()
    updated = await update_post_row(session, post, {"status": "scheduled"})
    chosen = await target_ids(session, account_id=account_id, post_id=post.id)
    await _record_scheduled(session, None, updated, chosen, rescheduled=False)
    return updated


async def cancel_post(
    session: AsyncSession, *, actor: Actor, post_id: int, expected_version: int | None = None
) -> ScheduledPost:
    """Cancel the post: it will not be published (a draft may be cancelled too)."""
    post = await get_post(session, actor=actor, post_id=post_id, lock=True)
    check_version(post, expected_version)
    check_transition(post.status, "cancelled")
    was = post.status
    updated = await update_post_row(session, post, {"status": "cancelled"})
    await record(
        session,
        PostCancelled(post_id=post.id, previous_status=was, cancelled_by=actor.user_id),
        account_id=actor.account_id, aggregate_id=post.id, aggregate_version=updated.version,
    )  # fmt: skip
    return updated


async def _record_scheduled(
    session: AsyncSession,
    user_id: int | None,
    post: ScheduledPost,
    chosen: list[uuid.UUID],
    *,
    rescheduled: bool,
) -> None:
    assert post.scheduled_at is not None and post.timezone is not None
    await record(
        session,
        PostScheduled(
            post_id=post.id, scheduled_at=post.scheduled_at, timezone=post.timezone,
            social_account_ids=chosen, platforms=list(post.platforms), rescheduled=rescheduled,
            scheduled_by=user_id,
        ),
        account_id=post.account_id, aggregate_id=post.id, aggregate_version=post.version,
    )  # fmt: skip
