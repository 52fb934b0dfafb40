"""HTTP routes of recurring posts: a series makes one scheduled post per occurrence."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from markettina.identity.public import Actor, Transaction, of_acting_account, plain_read, require
from markettina.kernel.errors import FieldError, ValidationFailed
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import IfMatch, version_read

from .. import recurring_posts
from ..recurrence import Recurrence
from ..recurring_posts import SeriesDetail
from ..schemas.series import OccurrenceOut, SeriesCreate, SeriesDetailOut, SeriesOut, SeriesUpdate

router = APIRouter(prefix="/post-series", tags=["posts"])

ContentRead = Annotated[Actor, require("content:read")]
ContentPublish = Annotated[Actor, require("content:publish")]


def _out(detail: SeriesDetail, response: Response) -> SeriesDetailOut:
    response.headers["ETag"] = f'"{detail.series.version}"'
    return SeriesDetailOut(
        **SeriesOut.model_validate(detail.series).model_dump(),
        posts=[
            OccurrenceOut(post_id=o.post_id, index=o.index, scheduled_at=o.scheduled_at,
                          status=o.status, follows_series=o.follows_series)
            for o in detail.occurrences
        ],
    )  # fmt: skip


def _rule(body: SeriesCreate) -> Recurrence:
    if (body.until is None) == (body.occurrences is None):
        raise _invalid("body.occurrences", "give either until or occurrences", "one_end")
    if body.until is not None and body.until < body.starts_on:
        raise _invalid("body.until", "before starts_on", "invalid_range")
    if body.frequency == "daily" and body.weekdays:
        raise _invalid("body.weekdays", "weekdays are for a weekly series", "not_weekly")
    return Recurrence(
        starts_on=body.starts_on, local_time=dt.time.fromisoformat(body.time),
        timezone=body.timezone, frequency=body.frequency, every=body.every,
        weekdays=tuple(body.weekdays), until=body.until, occurrences=body.occurrences,
    )  # fmt: skip


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(field, message, code)])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SeriesDetailOut,
    summary="Create a recurring post: one scheduled post per occurrence (at most 366)",
)
async def create_series(
    body: SeriesCreate, actor: ContentPublish, session: Transaction, response: Response
) -> SeriesDetailOut:
    detail = await recurring_posts.create_series(
        session, actor=actor, content=body.content, hashtags=body.hashtags,
        campaign_id=body.campaign_id, social_account_ids=body.social_account_ids,
        rule=_rule(body),
    )  # fmt: skip
    return _out(detail, response)


@router.get("", response_model=Page[SeriesOut], summary="The account's post series, newest first")
@plain_read(recurring_posts.LISTED_PAGE, of_acting_account)
async def list_series(
    actor: ContentRead, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Response:
    body = await recurring_posts.LISTED_PAGE.json_page(
        session, limit=limit, cursor=cursor, **of_acting_account(actor)
    )
    return Response(body, media_type="application/json")


@router.get(
    "/{series_id}",
    response_model=SeriesDetailOut,
    summary="One post series and its occurrences (its version is the ETag)",
)
async def read_series(
    series_id: uuid.UUID, actor: ContentRead, session: Transaction, response: Response
) -> SeriesDetailOut:
    return _out(await recurring_posts.series_detail(session, series_id=series_id), response)


@router.patch(
    "/{series_id}",
    response_model=SeriesDetailOut,
    summary="Change a series' content: its following occurrences still to come change too "
    "(If-Match or body version)",
)
async def update_series(
    series_id: uuid.UUID,
    body: SeriesUpdate,
    actor: ContentPublish,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> SeriesDetailOut:
    detail = await recurring_posts.edit_series(
        session, actor=actor, series_id=series_id,
        expected_version=version_read(if_match, body.version, "post series"),
        changes=body.model_dump(exclude_unset=True, exclude={"version"}),
    )  # fmt: skip
    return _out(detail, response)


@router.delete(
    "/{series_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End a series: its following occurrences still to come are cancelled",
)
async def delete_series(series_id: uuid.UUID, actor: ContentPublish, session: Transaction) -> None:
    await recurring_posts.end_series(session, actor=actor, series_id=series_id)
