"""The relay: hands committed events to their handlers, at least once, and marks them.

One batch is one transaction as markettina_app. ``claim_domain_events`` locks up to
``batch_size`` due events of any account (FOR UPDATE SKIP LOCKED, oldest first); each is
then read and handled with the tenant set to its account. An event whose handlers all
return is marked processed in the same transaction as their writes; one whose handler
raises (or overruns its time) has its handlers' writes rolled back (to a savepoint) and
is rescheduled with exponential backoff, while the rest of the batch goes on. A relay that
dies mid-batch commits nothing: its locks go with its connection and the events are
claimed again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.types import Uuid

from ..db.tenant import tenant_scope
from ..logs import get_logger
from .handlers import StoredEvent, handlers_for

log = get_logger(__name__)

BATCH_SIZE = 200
HANDLER_TIMEOUT_SECONDS = 30.0  # all of one event's handlers together
STATEMENT_TIMEOUT_SECONDS = 25.0  # one statement stuck behind a lock fails its event first
FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 3600.0  # an event failing for good is retried hourly, never dropped
FAILING_AFTER_ATTEMPTS = 10  # from here on, /readyz warns about it
LAST_ERROR_MAX_CHARS = 2000

_CLAIM = text("SELECT account_id, id, created_at FROM claim_domain_events(:batch_size)")
_LOAD = text(
    "SELECT id, account_id, created_at, event_type, event_version, aggregate_type,"
    " aggregate_id, aggregate_version, event_data, metadata, attempts"
    " FROM domain_events WHERE id = ANY(:ids) AND NOT processed"
    " ORDER BY created_at, id"
).bindparams(bindparam("ids", type_=ARRAY(Uuid())))
_MARK_PROCESSED = text(
    "UPDATE domain_events SET processed = true, processed_at = clock_timestamp(),"
    " next_attempt_at = NULL WHERE id = ANY(:ids) AND created_at >= :since"
).bindparams(bindparam("ids", type_=ARRAY(Uuid())))
_RESCHEDULE = text(
    "UPDATE domain_events SET attempts = attempts + 1, last_error = :error,"
    " next_attempt_at = clock_timestamp() + make_interval(secs => :delay)"
    " WHERE id = :id AND created_at = :created_at"
)


@dataclass(frozen=True)
class RelayReport:
    claimed: int = 0
    processed: int = 0
    failed: int = 0


def retry_delay_seconds(attempts: int) -> float:
    """The wait before the next run of an event that has now failed ``attempts`` times:
    2 s, 4 s, 8 s, ... capped at an hour."""
    exponent = min(max(attempts - 1, 0), 32)
    return min(FIRST_RETRY_SECONDS * 2.0**exponent, MAX_RETRY_SECONDS)


async def relay_batch(
    sessions: async_sessionmaker[AsyncSession], *, batch_size: int = BATCH_SIZE
) -> RelayReport:
    """Claim, handle and mark one batch of due events in one transaction.

    The batch runs first without savepoints (the usual case: every handler returns). If a
    handler raises, that attempt is rolled back whole and the batch is claimed and run
    again with a savepoint around each event, so the failure is the event's alone.
    """
    try:
        return await _relay(sessions, batch_size, isolate=False)
    except _HandlerRaised:
        return await _relay(sessions, batch_size, isolate=True)


class _HandlerRaised(Exception):
    """A handler raised in a batch run without savepoints."""


async def _relay(
    sessions: async_sessionmaker[AsyncSession], batch_size: int, *, isolate: bool
) -> RelayReport:
    async with sessions() as session, session.begin():
        await session.execute(
            text("SELECT set_config('statement_timeout', :ms, true)"),
            {"ms": str(int(STATEMENT_TIMEOUT_SECONDS * 1000))},
        )
        claimed = (await session.execute(_CLAIM, {"batch_size": batch_size})).all()
        by_account: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for key in claimed:
            by_account[key.account_id].append(key)
        processed = failed = 0
        for account_id, keys in by_account.items():
            async with tenant_scope(session, account_id):
                done, failures = await _handle_account_events(session, keys, isolate=isolate)
            processed += done
            failed += failures
    return RelayReport(claimed=len(claimed), processed=processed, failed=failed)


async def _handle_account_events(
    session: AsyncSession, keys: Sequence[Any], *, isolate: bool
) -> tuple[int, int]:
    rows = await session.execute(_LOAD, {"ids": [key.id for key in keys]})
    succeeded: list[uuid.UUID] = []
    failed = 0
    for row in rows.mappings().all():
        event = _stored(row)
        error = await _run_handlers(session, event, isolate=isolate)
        if error is None:
            succeeded.append(event.id)
        else:
            failed += 1
            await _reschedule(session, event, attempts=row["attempts"] + 1, error=error)
    if succeeded:
        since = min(key.created_at for key in keys)
        await session.execute(_MARK_PROCESSED, {"ids": succeeded, "since": since})
    return len(succeeded), failed


async def _run_handlers(session: AsyncSession, event: StoredEvent, *, isolate: bool) -> str | None:
    """Run every matching handler: None if all returned. Isolated, in one savepoint that a
    failure rolls back (no handler of the event leaves a write) and returns; otherwise a
    failure raises ``_HandlerRaised`` for the whole batch."""
    handlers = handlers_for(event.event_type)
    if not handlers:
        return None
    current = handlers[0].name
    try:
        async with asyncio.timeout(HANDLER_TIMEOUT_SECONDS):
            if isolate:
                async with session.begin_nested():
                    for handler in handlers:
                        current = handler.name
                        await handler.handle(session, event)
            else:
                for handler in handlers:
                    current = handler.name
                    await handler.handle(session, event)
    except Exception as exc:  # a handler's failure is its event's, never the batch's
        error = f"{current}: {type(exc).__name__}: {exc}"
        if not isolate:
            raise _HandlerRaised(error) from exc
        log.warning(
            "event_handler_failed", event_id=str(event.id), event_type=event.event_type, error=error
        )
        return error
    return None


async def _reschedule(
    session: AsyncSession, event: StoredEvent, *, attempts: int, error: str
) -> None:
    delay = retry_delay_seconds(attempts)
    await session.execute(
        _RESCHEDULE,
        {
            "id": event.id,
            "created_at": event.created_at,
            "error": error[:LAST_ERROR_MAX_CHARS],
            "delay": delay,
        },
    )
    # an event failing for long is an operator's business: /readyz counts it too
    level = log.error if attempts >= FAILING_AFTER_ATTEMPTS else log.info
    level(
        "event_rescheduled",
        event_id=str(event.id),
        event_type=event.event_type,
        attempts=attempts,
        retry_in_seconds=delay,
    )


def _stored(row: RowMapping) -> StoredEvent:
    return StoredEvent(
        id=row["id"],
        account_id=row["account_id"],
        created_at=row["created_at"],
        event_type=row["event_type"],
        version=row["event_version"],
        aggregate_type=row["aggregate_type"],
        aggregate_id=row["aggregate_id"],
        aggregate_version=row["aggregate_version"],
        data=row["event_data"],
        metadata=row["metadata"],
    )
