"""Writing posts: create one as a draft (its content is version 1), read it, edit it under
optimistic locking (every edit that changes something writes the next content version with
the fields it changed), delete it (soft)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import Actor
from markettina.kernel.errors import FieldError, ValidationFailed
from markettina.kernel.events import record

from .approval_gate import approval_gate
from .errors import PostNotEditable, PostNotFound, PostVersionConflict
from .events import PostApprovalRequested, PostCreated, PostUpdated
from .models import Campaign, ScheduledPost
from .post_snapshots import (
    SNAPSHOT_FIELDS,
    as_json,
    latest_version_number,
    snapshot_of,
    write_version,
)
from .post_states import EDITABLE, check_transition
from .post_targets import target_ids

MAX_CONTENT = 10_000  # characters; each platform's own limit is checked when publishing
MAX_HASHTAGS = 30
MAX_HASHTAG = 100
_HASHTAG = re.compile(r"^\w+$")


# --- reading ----------------------------------------------------------------------------------


async def get_post(
    session: AsyncSession, *, actor: Actor, post_id: int, lock: bool = False
) -> ScheduledPost:
    """The acting account's post (not deleted); ``lock`` holds its row to the end of the
    transaction (FOR UPDATE), so concurrent writers of one post take turns."""
    return await find_post(session, account_id=actor.account_id, post_id=post_id, lock=lock)


async def find_post(
    session: AsyncSession, *, account_id: uuid.UUID, post_id: int, lock: bool = False
) -> ScheduledPost:
    query = select(ScheduledPost).where(
        ScheduledPost.account_id == account_id,
        ScheduledPost.id == post_id,
        ScheduledPost.deleted_at.is_(None),
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    post = (await session.execute(query)).scalar_one_or_none()
    if post is None:
        raise PostNotFound()
    return post


def check_version(post: ScheduledPost, expected_version: int | None) -> None:
    if expected_version is not None and post.version != expected_version:
        raise PostVersionConflict(post.version)


# --- validation -------------------------------------------------------------------------------


def _content(value: Any, field: str = "body.content") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(
            "a post needs some content", errors=[FieldError(field, "empty", "empty")]
        )
    if len(value) > MAX_CONTENT:
        raise ValidationFailed(
            f"a post's content is at most {MAX_CONTENT} characters",
            errors=[FieldError(field, f"longer than {MAX_CONTENT} characters", "too_long")],
        )
    return value


def normalized_hashtags(values: Iterable[str], field: str = "body.hashtags") -> list[str]:
    """Hashtags without their ``#``, each one word, once each (the first spelling kept)."""
    tags: list[str] = []
    for value in values:
        tag = value.strip().removeprefix("#") if isinstance(value, str) else ""
        if not _HASHTAG.match(tag) or len(tag) > MAX_HASHTAG:
            raise ValidationFailed(
                f"{value!r} is not a hashtag: one word of letters, digits or _, at most "
                f"{MAX_HASHTAG} characters",
                errors=[FieldError(field, "not a hashtag", "invalid_hashtag")],
            )
        if tag.casefold() not in (known.casefold() for known in tags):
            tags.append(tag)
    if len(tags) > MAX_HASHTAGS:
        raise ValidationFailed(
            f"a post has at most {MAX_HASHTAGS} hashtags",
            errors=[FieldError(field, f"more than {MAX_HASHTAGS}", "too_many")],
        )
    return tags


async def _campaign(
    session: AsyncSession, actor: Actor, campaign_id: uuid.UUID | None
) -> uuid.UUID | None:
    if campaign_id is None:
        return None
    found = await session.scalar(
        select(Campaign.id).where(
            Campaign.account_id == actor.account_id,
            Campaign.id == campaign_id,
            Campaign.deleted_at.is_(None),
        )
    )
    if found is None:
        raise ValidationFailed(
            "no such campaign in this account",
            errors=[FieldError("body.campaign_id", "no such campaign", "unknown_campaign")],
        )
    return campaign_id


async def _validated(
    session: AsyncSession, actor: Actor, changes: Mapping[str, Any]
) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(SNAPSHOT_FIELDS))
    if unknown:
        raise ValidationFailed(
            "only content, hashtags and campaign_id can be edited",
            errors=[FieldError(f"body.{name}", "not editable", "not_editable") for name in unknown],
        )
    fields: dict[str, Any] = {}
    if "content" in changes:
        fields["content"] = _content(changes["content"])
    if "hashtags" in changes:
        fields["hashtags"] = normalized_hashtags(changes["hashtags"] or ())
    if "campaign_id" in changes:
        fields["campaign_id"] = await _campaign(session, actor, changes["campaign_id"])
    return fields


# --- writing ----------------------------------------------------------------------------------


async def create_post(
    session: AsyncSession,
    *,
    actor: Actor,
    content: str,
    hashtags: Iterable[str] = (),
    campaign_id: uuid.UUID | None = None,
    ai_generated: bool = False,
    change_summary: str | None = None,
) -> ScheduledPost:
    """A draft post of the acting account; its content is written as version 1."""
    fields = await _validated(
        session, actor, {"content": content, "hashtags": hashtags, "campaign_id": campaign_id}
    )
    post = (
        await session.execute(
            insert(ScheduledPost)
            .values(
                account_id=actor.account_id,
                user_id=actor.user_id,
                created_by=actor.user_id,
                ai_generated=ai_generated,
                status="draft",
                **fields,
            )
            .returning(ScheduledPost)
        )
    ).scalar_one()
    await write_version(
        session, account_id=actor.account_id, post_id=post.id, number=1,
        snapshot=snapshot_of(post), changed_fields=SNAPSHOT_FIELDS,
        change_summary=change_summary or "created", created_by=actor.user_id,
    )  # fmt: skip
    await record(
        session,
        PostCreated(
            post_id=post.id, campaign_id=post.campaign_id, hashtags=list(post.hashtags),
            ai_generated=post.ai_generated, created_by=actor.user_id,
        ),
        account_id=actor.account_id, aggregate_id=post.id, aggregate_version=post.version,
    )  # fmt: skip
    return post


async def edit_post(
    session: AsyncSession,
    *,
    actor: Actor,
    post_id: int,
    changes: Mapping[str, Any],
    expected_version: int | None,
    change_summary: str | None = None,
    restored_from: int | None = None,
) -> ScheduledPost:
    """Change the post's content, hashtags or campaign if it is still at
    ``expected_version`` (None: whatever its version; the API always sends one).

    A change that changes nothing writes nothing. Otherwise the next content version holds
    the new snapshot and the fields that changed. A scheduled post whose new content the
    approval gate does not pass goes back to ``pending_approval``.
    """
    post = await get_post(session, actor=actor, post_id=post_id, lock=True)
    check_version(post, expected_version)
    fields = await _validated(session, actor, changes)
    before = snapshot_of(post)
    changed = {
        name: value for name, value in fields.items() if as_json(name, value) != before[name]
    }
    if not changed:
        return post
    if post.status not in EDITABLE:
        raise PostNotEditable(post.status)
    number = await latest_version_number(session, account_id=actor.account_id, post_id=post.id)
    after = {**before, **{name: as_json(name, value) for name, value in changed.items()}}
    await write_version(
        session, account_id=actor.account_id, post_id=post.id, number=number + 1,
        snapshot=after, changed_fields=changed, change_summary=change_summary,
        created_by=actor.user_id,
    )  # fmt: skip
    values: dict[str, Any] = dict(changed)
    needs_approval = post.status == "scheduled" and not await approval_gate().approved(
        session, account_id=actor.account_id, post_id=post.id, content_version=number + 1
    )
    if needs_approval:
        check_transition(post.status, "pending_approval")
        values["status"] = "pending_approval"
    updated = await update_post_row(session, post, values)
    await record(
        session,
        PostUpdated(
            post_id=post.id, changed=sorted(changed), content_version=number + 1,
            restored_from=restored_from, status=updated.status, updated_by=actor.user_id,
        ),
        account_id=actor.account_id, aggregate_id=post.id, aggregate_version=updated.version,
    )  # fmt: skip
    if needs_approval:
        await record_approval_request(session, actor=actor, post=updated, number=number + 1)
    return updated


async def delete_post(
    session: AsyncSession, *, actor: Actor, post_id: int, expected_version: int | None
) -> None:
    """Soft delete; a post the publisher holds (publishing) cannot be deleted."""
    post = await get_post(session, actor=actor, post_id=post_id, lock=True)
    check_version(post, expected_version)
    if post.status == "publishing":
        raise PostNotEditable(post.status)
    await update_post_row(
        session, post, {"deleted_at": dt.datetime.now(dt.UTC), "deleted_by": actor.user_id}
    )


async def record_approval_request(
    session: AsyncSession, *, actor: Actor, post: ScheduledPost, number: int
) -> None:
    """The event the approval workflow picks a waiting post up from."""
    assert post.scheduled_at is not None and post.timezone is not None
    await record(
        session,
        PostApprovalRequested(
            post_id=post.id, content_version=number, scheduled_at=post.scheduled_at,
            timezone=post.timezone,
            social_account_ids=await target_ids(session, account_id=post.account_id,
                                                post_id=post.id),
            requested_by=actor.user_id,
        ),
        account_id=post.account_id, aggregate_id=post.id, aggregate_version=post.version,
    )  # fmt: skip


async def update_post_row(
    session: AsyncSession, post: ScheduledPost, values: Mapping[str, Any]
) -> ScheduledPost:
    """Write ``values`` on the (locked) post; the trigger bumps its version."""
    return (
        await session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.account_id == post.account_id, ScheduledPost.id == post.id)
            .values(**values)
            .returning(ScheduledPost)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one()
