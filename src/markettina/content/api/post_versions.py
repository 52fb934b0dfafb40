"""A post's content versions over HTTP: list, show one, diff two, restore one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from markettina.identity.public import Actor, Transaction, not_plain, require
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import IfMatch, version_read, version_required
from markettina.kernel.web.openapi import problems

from .. import post_versions
from ..schemas.posts import (
    FieldChange,
    PostRestore,
    PostVersionDiff,
    PostVersionOut,
    ScheduledPostOut,
)
from .posts import PostId, post_out

router = APIRouter(prefix="/posts/{post_id}", tags=["posts"])

PostsRead = Annotated[Actor, require("content:read")]
PostsWrite = Annotated[Actor, require("content:write")]
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="A content version.")]


@router.get(
    "/versions",
    response_model=Page[PostVersionOut],
    summary="The post's content versions, newest first",
)
@not_plain("a path parameter (the post): the read lane answers fixed paths")
async def list_versions(
    post_id: PostId, actor: PostsRead, session: Transaction, limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[PostVersionOut]:  # fmt: skip
    page = await post_versions.list_versions(
        session, actor=actor, post_id=post_id, limit=limit, cursor=cursor
    )
    return Page[PostVersionOut](
        items=[PostVersionOut.model_validate(version) for version in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/versions/{version_number}", response_model=PostVersionOut, summary="One content version"
)
async def read_version(
    post_id: PostId, version_number: VersionNumber, actor: PostsRead, session: Transaction
) -> PostVersionOut:
    version = await post_versions.get_version(
        session, actor=actor, post_id=post_id, number=version_number
    )
    return PostVersionOut.model_validate(version)


@router.get(
    "/diff",
    response_model=PostVersionDiff,
    summary="What changed from one content version to another, field by field",
)
async def diff_versions(
    post_id: PostId,
    actor: PostsRead,
    session: Transaction,
    from_version: Annotated[
        int | None,
        Query(alias="from", ge=1, le=2**31 - 1, description="By default the one before `to`."),
    ] = None,
    to_version: Annotated[
        int | None, Query(alias="to", ge=1, le=2**31 - 1, description="By default the newest.")
    ] = None,
) -> PostVersionDiff:
    diff = await post_versions.diff_versions(
        session, actor=actor, post_id=post_id, from_number=from_version, to_number=to_version
    )
    return PostVersionDiff(
        from_version=diff.from_version,
        to_version=diff.to_version,
        changes=[FieldChange.model_validate(change) for change in diff.changes],
    )


@router.post(
    "/versions/{version_number}/restore",
    response_model=ScheduledPostOut,
    responses=problems(409),
    summary="Give the post this version's content again, as its next version (If-Match or "
    "body version)",
)
async def restore_version(
    post_id: PostId,
    version_number: VersionNumber,
    actor: PostsWrite,
    session: Transaction,
    response: Response,
    body: PostRestore | None = None,
    if_match: IfMatch = None,
) -> ScheduledPostOut:
    sent = body.version if body else None
    version = version_read(if_match, sent, "post")
    if version is None:  # an unknown post or version is 404 before a missing version is 422
        await post_versions.get_version(
            session, actor=actor, post_id=post_id, number=version_number
        )
        version = version_required(if_match, sent, "post")
    post = await post_versions.restore_version(
        session, actor=actor, post_id=post_id, number=version_number, expected_version=version
    )
    return await post_out(session, post, response)
