"""Posts over HTTP: write drafts, edit them (If-Match), schedule them on the account's
social accounts, cancel them, list them with filters."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import Actor, Transaction, plain_read, require
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import (
    IfMatch,
    version_read,
    version_required,
)
from markettina.kernel.web.inputs import Timestamp
from markettina.kernel.web.openapi import problems

from .. import post_drafts, post_listing, post_schedule
from ..models import ScheduledPost
from ..post_targets import target_ids
from ..schemas.posts import (
    PostCreate,
    PostOut,
    PostSchedule,
    PostStatus,
    PostUpdate,
    ScheduledPostOut,
)

router = APIRouter(prefix="/posts", tags=["posts"])

PostsRead = Annotated[Actor, require("content:read")]
PostsWrite = Annotated[Actor, require("content:write")]
PostsPublish = Annotated[Actor, require("content:publish")]
PostId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The post's id.")]


async def post_out(
    session: AsyncSession, post: ScheduledPost, response: Response
) -> ScheduledPostOut:
    """The post with its social accounts; its version is the ETag."""
    response.headers["ETag"] = f'"{post.version}"'
    targets = await target_ids(session, account_id=post.account_id, post_id=post.id)
    return ScheduledPostOut(**PostOut.model_validate(post).model_dump(), social_account_ids=targets)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ScheduledPostOut,
    summary="Write a post, as a draft (its content is version 1)",
)
async def create_post(
    body: PostCreate, actor: PostsWrite, session: Transaction, response: Response
) -> ScheduledPostOut:
    post = await post_drafts.create_post(
        session, actor=actor, content=body.content, hashtags=body.hashtags,
        campaign_id=body.campaign_id, ai_generated=body.ai_generated,
        change_summary=body.change_summary,
    )  # fmt: skip
    return await post_out(session, post, response)


@router.get(
    "",
    response_model=Page[PostOut],
    summary="The account's posts, newest first, filtered by any of status, campaign, social "
    "account, platform, scheduled time, hashtag and words of the content",
)
@plain_read(post_listing.LISTED_PAGE, post_listing.listed_of)
async def list_posts(
    actor: PostsRead,
    session: Transaction,
    post_status: Annotated[PostStatus | None, Query(alias="status")] = None,
    campaign_id: Annotated[uuid.UUID | None, Query(description="Posts of this campaign.")] = None,
    social_account_id: Annotated[
        uuid.UUID | None, Query(description="Posts going to this social account.")
    ] = None,
    platform: Annotated[
        str | None,
        Query(
            max_length=32,
            pattern=r"^[a-z][a-z0-9_-]{0,31}$",
            description="Posts going to this platform (`instagram`).",
        ),
    ] = None,
    scheduled_from: Annotated[
        Timestamp | None, Query(description="Scheduled at or after this instant (RFC 3339).")
    ] = None,
    scheduled_until: Annotated[
        Timestamp | None, Query(description="Scheduled before this instant (RFC 3339).")
    ] = None,
    tag: Annotated[
        str | None,
        Query(
            max_length=101,
            pattern=r"^#?\w{1,100}$",
            description="Posts with this hashtag (with or without `#`; as written).",
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            pattern=r"^[^\x00]*\S[^\x00]*$",
            description='Words of the content (web-search syntax: `"exact phrase"`, `-word`, '
            "`or`), matched in Italian and in English.",
        ),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    filters = post_listing.PostFilters(
        status=post_status, campaign_id=campaign_id, social_account_id=social_account_id,
        platform=platform, scheduled_from=scheduled_from, scheduled_until=scheduled_until,
        tag=tag, q=q,
    )  # fmt: skip
    if not filters.any:  # the plain read: the page as PostgreSQL rendered it
        body = await post_listing.LISTED_PAGE.json_page(
            session, limit=limit, cursor=cursor, **post_listing.listed_of(actor)
        )
        return Response(body, media_type="application/json")
    page = await post_listing.list_posts(
        session, actor=actor, filters=filters, limit=limit, cursor=cursor
    )
    listed = Page[PostOut](
        items=[PostOut.model_validate(row) for row in page.items], next_cursor=page.next_cursor
    )
    return Response(listed.model_dump_json(), media_type="application/json")


@router.get(
    "/{post_id}", response_model=ScheduledPostOut, summary="One post (its version is the ETag)"
)
async def read_post(
    post_id: PostId, actor: PostsRead, session: Transaction, response: Response
) -> ScheduledPostOut:
    post = await post_drafts.get_post(session, actor=actor, post_id=post_id)
    return await post_out(session, post, response)


@router.patch(
    "/{post_id}",
    response_model=ScheduledPostOut,
    responses=problems(409),
    summary="Edit a post (If-Match or body version); a change writes its next content version",
)
async def edit_post(
    post_id: PostId,
    body: PostUpdate,
    actor: PostsWrite,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> ScheduledPostOut:
    version = version_read(if_match, body.version, "post")
    if version is None:  # an unknown post is 404 before a missing version is 422
        await post_drafts.get_post(session, actor=actor, post_id=post_id)
        version = version_required(if_match, body.version, "post")
    post = await post_drafts.edit_post(
        session, actor=actor, post_id=post_id, changes=body.changes(),
        expected_version=version, change_summary=body.change_summary,
    )  # fmt: skip
    return await post_out(session, post, response)


@router.delete(
    "/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(409),
    summary="Delete a post (not while it is being published); If-Match optional",
)
async def delete_post(
    post_id: PostId, actor: PostsWrite, session: Transaction, if_match: IfMatch = None
) -> None:
    await post_drafts.delete_post(
        session, actor=actor, post_id=post_id, expected_version=version_read(if_match, None, "post")
    )


@router.post(
    "/{post_id}/schedule",
    response_model=ScheduledPostOut,
    responses=problems(409),
    summary="Schedule or reschedule a post: a future instant, an IANA time zone, social "
    "accounts; it waits in pending_approval when the account requires approval",
)
async def schedule_post(
    post_id: PostId,
    body: PostSchedule,
    actor: PostsPublish,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> ScheduledPostOut:
    post = await post_schedule.schedule_post(
        session, actor=actor, post_id=post_id, at=body.scheduled_at, timezone=body.timezone,
        social_account_ids=body.social_account_ids,
        expected_version=version_read(if_match, body.version, "post"),
    )  # fmt: skip
    return await post_out(session, post, response)


@router.post(
    "/{post_id}/cancel",
    response_model=ScheduledPostOut,
    responses=problems(409),
    summary="Cancel a post: it will not be published (If-Match optional)",
)
async def cancel_post(
    post_id: PostId,
    actor: PostsPublish,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> ScheduledPostOut:
    post = await post_schedule.cancel_post(
        session, actor=actor, post_id=post_id, expected_version=version_read(if_match, None, "post")
    )
    return await post_out(session, post, response)
