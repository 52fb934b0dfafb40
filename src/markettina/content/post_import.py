"""Bulk import of posts: every row of a file becomes a post, scheduled at its time or
queued into the next free slot, in one transaction.

Rows are written through the same use cases as one post (``create_post``,
``schedule_locked_post``, ``post_queueing.queue_locked_post``), ``BATCH`` rows to a savepoint: a
row refused while writing (a social account not connected, a full queue) rolls its batch
back, which is then written again a row per savepoint, so that row alone is left out and
named (a savepoint per row costs two round trips; most files have no such row).
What every row would read again is read once for the file: the publishable social accounts
among those the rows name, and (``QueueSearches``) up to where the queues are full.
Then, by mode:

- ``validate``: everything is rolled back; the answer is what ``all_or_nothing`` would do;
- ``all_or_nothing``: any refused row rolls everything back (422 listing the rows);
- ``valid_rows``: the rows that could be written are kept, the others are listed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import Actor
from markettina.kernel.errors import MarkettinaError, ValidationFailed

from .import_rows import ImportRow, RowProblem, read_rows
from .post_drafts import create_post
from .post_queueing import QueueSearches, queue_locked_post
from .post_schedule import schedule_locked_post
from .post_targets import publishable_among

ImportMode = Literal["validate", "all_or_nothing", "valid_rows"]
# rows written together in one savepoint; a batch the write refuses a row of is rolled
# back and written again a row per savepoint, so only a refused row is left out
BATCH = 50


@dataclass
class ImportReport:
    mode: str
    rows: int
    imported: int = 0
    post_ids: list[int] = field(default_factory=list)
    refused: list[RowProblem] = field(default_factory=list)


class ImportRefused(ValidationFailed):
    code = "import_refused"

    def __init__(self, report: ImportReport) -> None:
        refused_rows = len({p.row for p in report.refused})
        super().__init__(f"{refused_rows} of {report.rows} rows were refused: nothing imported")
        self.extensions = {
            "rows": report.rows,
            "refused": [p.__dict__ for p in report.refused],
        }


async def import_posts(
    session: AsyncSession, *, actor: Actor, data: bytes, fmt: str, mode: ImportMode
) -> ImportReport:
    rows = read_rows(data, fmt)
    report = ImportReport(mode=mode, rows=len(rows))
    searched = QueueSearches()
    publishable = await publishable_among(
        session, account_id=actor.account_id,
        social_account_ids=(one for row in rows for one in row.social_account_ids),
    )  # fmt: skip
    everything = await session.begin_nested()
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        if not await _write_together(session, actor, batch, searched, publishable, report):
            await _write_one_by_one(session, actor, batch, searched, publishable, report)
    keep = mode == "valid_rows" or (mode == "all_or_nothing" and not report.refused)
    if keep:
        await everything.commit()
        report.imported = len(report.post_ids)
    else:
        await everything.rollback()
    if mode == "all_or_nothing" and report.refused:
        raise ImportRefused(report)
    if mode == "validate":
        report.post_ids = []
    return report


async def _write_together(
    session: AsyncSession,
    actor: Actor,
    batch: list[ImportRow],
    searched: QueueSearches,
    publishable: Mapping[uuid.UUID, str],
    report: ImportReport,
) -> bool:
    """Write the batch's rows in one savepoint; False, with nothing of the batch written
    (nor remembered by the queue searches), when the write refuses one of them."""
    remembered = dict(searched.full_until)
    together = await session.begin_nested()
    written: list[int] = []
    try:
        for row in batch:
            if not row.problems:
                written.append(await _write(session, actor, row, searched, publishable))
    except MarkettinaError:
        await together.rollback()
        searched.full_until = remembered
        return False
    await together.commit()
    for row in batch:
        report.refused.extend(row.problems)
    report.post_ids.extend(written)
    return True


async def _write_one_by_one(
    session: AsyncSession,
    actor: Actor,
    batch: list[ImportRow],
    searched: QueueSearches,
    publishable: Mapping[uuid.UUID, str],
    report: ImportReport,
) -> None:
    """Write each row in a savepoint of its own, so a refused row is rolled back alone."""
    for row in batch:
        if row.problems:
            report.refused.extend(row.problems)
            continue
        one = await session.begin_nested()
        try:
            post_id = await _write(session, actor, row, searched, publishable)
        except MarkettinaError as refusal:
            await one.rollback()
            report.refused.extend(_problems(row, refusal))
            continue
        await one.commit()
        report.post_ids.append(post_id)


async def _write(
    session: AsyncSession,
    actor: Actor,
    row: ImportRow,
    searched: QueueSearches,
    publishable: Mapping[uuid.UUID, str],
) -> int:
    post = await create_post(
        session, actor=actor, content=row.content, hashtags=row.hashtags,
        campaign_id=row.campaign_id, change_summary="imported",
    )  # fmt: skip
    if row.scheduled_at is None:
        await queue_locked_post(
            session, actor=actor, post=post, social_account_ids=row.social_account_ids,
            now=dt.datetime.now(dt.UTC), content_version=1, searched=searched,
            publishable=publishable,
        )  # fmt: skip
    else:
        await schedule_locked_post(
            session, actor=actor, post=post, at=row.scheduled_at, timezone=row.timezone,
            social_account_ids=row.social_account_ids, content_version=1, publishable=publishable,
        )  # fmt: skip
    return post.id


def _problems(row: ImportRow, refusal: MarkettinaError) -> list[RowProblem]:
    """The row's refusal, its fields named as the file's columns (``body.x`` is ``x``)."""
    if not refusal.errors:
        return [RowProblem(row.row, row.line, "row", refusal.detail, refusal.code)]
    return [
        RowProblem(row.row, row.line, e.field.removeprefix("body."), e.message, e.code)
        for e in refusal.errors
    ]
