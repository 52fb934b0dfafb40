"""The outbox writer: an event is a row written in the business transaction itself."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import bindparam

from .catalog import Event

_INSERT = text(
    "INSERT INTO domain_events (account_id, aggregate_type, aggregate_id, aggregate_version,"
    " event_type, event_version, event_data, metadata)"
    " VALUES (:account_id, :aggregate_type, :aggregate_id, :aggregate_version,"
    " :event_type, :event_version, :event_data, :metadata)"
    " RETURNING id"
).bindparams(bindparam("event_data", type_=JSONB), bindparam("metadata", type_=JSONB))


async def record(
    session: AsyncSession,
    event: Event,
    *,
    account_id: uuid.UUID,
    aggregate_id: str | uuid.UUID | int,
    aggregate_version: int = 0,
    metadata: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Append ``event`` to the outbox inside the caller's transaction (never commits).

    The event exists only if that transaction commits; the relay hands it to the handlers
    afterwards. Row-level security applies: the session's tenant must be ``account_id``.
    """
    row = await session.execute(
        _INSERT,
        {
            "account_id": account_id,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": str(aggregate_id),
            "aggregate_version": aggregate_version,
            "event_type": event.event_type,
            "event_version": event.version,
            "event_data": event.payload(),
            "metadata": metadata or {},
        },
    )
    event_id = row.scalar_one()
    assert isinstance(event_id, uuid.UUID)
    return event_id
