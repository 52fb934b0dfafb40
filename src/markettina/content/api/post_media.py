"""The media a post shows: read the ordered list, replace it. (The assets themselves are
the media library's, `api/media.py`; publishing reads this list.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from markettina.identity.public import Actor, Transaction, require
from markettina.kernel.web.openapi import problems

from .. import media_usage, post_drafts
from ..errors import PostNotEditable
from ..post_states import EDITABLE
from ..schemas.media import PostMediaList, PostMediaSet
from .posts import PostId

router = APIRouter(prefix="/posts", tags=["posts"])

PostsRead = Annotated[Actor, require("content:read")]
PostsWrite = Annotated[Actor, require("content:write")]


@router.get(
    "/{post_id}/media",
    response_model=PostMediaList,
    summary="The assets a post shows, in order",
    responses=problems(),
)
async def get_post_media(post_id: PostId, actor: PostsRead, session: Transaction) -> PostMediaList:
    await post_drafts.get_post(session, actor=actor, post_id=post_id)
    links = await media_usage.media_of_post(session, account_id=actor.account_id, post_id=post_id)
    return PostMediaList(post_id=post_id, media_asset_ids=[link.media_asset_id for link in links])


@router.put(
    "/{post_id}/media",
    response_model=PostMediaList,
    summary="Set the assets a post shows, in order (replaces the list)",
    responses=problems(409),
)
async def set_post_media(
    post_id: PostId, body: PostMediaSet, actor: PostsWrite, session: Transaction
) -> PostMediaList:
    post = await post_drafts.get_post(session, actor=actor, post_id=post_id, lock=True)
    if post.status not in EDITABLE:
        raise PostNotEditable(post.status)
    links = await media_usage.replace_media(
        session, account_id=actor.account_id, post_id=post_id, media_asset_ids=body.media_asset_ids
    )
    return PostMediaList(post_id=post_id, media_asset_ids=[link.media_asset_id for link in links])
