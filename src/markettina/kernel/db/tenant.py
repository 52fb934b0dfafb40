"""The one way to act as a tenant: a transaction-local setting read by every RLS policy.

``tenant_scope`` is how code acts as an account inside a transaction (a staff action on
an account, an event relayed for its account, a row written for another account): it sets
the tenant and sets the previous one back when the block ends, with or without an error,
so scopes nest. The boundaries of a transaction (the unit of work of a job, a request once
its caller is verified, a step of a webhook attempt) set the transaction's tenant once
with ``enter_tenant``: the same statement, nothing to restore since the transaction ends
with it, and sent in one round trip with the statement that needs it. A pipeline of its
own (the read lane) sends ``tenant_setting``, that statement compiled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .raw import CompiledQuery, InTransaction, driver_connection

TENANT_SETTING = "app.current_account_id"

# the tenant it replaces, then the new one: the materialized CTE is read before the
# projection calls set_config. is_local: the setting ends with the transaction, so a pooled
# connection never carries one tenant's context into the next
_SWITCH = CompiledQuery(
    text(
        "WITH previous AS MATERIALIZED (SELECT current_setting(:name, true) AS value) "
        "SELECT previous.value AS previous, set_config(:name, :value, true) AS tenant "
        "FROM previous"
    )
)
_GET = CompiledQuery(text("SELECT nullif(current_setting(:name, true), '') AS tenant"))


def tenant_setting(account_id: UUID | None) -> tuple[CompiledQuery, dict[str, Any]]:
    """The statement that sets the tenant ('' for None: no tenant, no rows visible), for a
    psycopg pipeline; its row holds the tenant it replaced (``previous``)."""
    return _SWITCH, {"name": TENANT_SETTING, "value": "" if account_id is None else str(account_id)}


async def _connection(where: InTransaction) -> psycopg.AsyncConnection[Any]:
    if isinstance(where, AsyncSession):
        # objects added before the switch are written as the tenant they were added under
        await where.flush()
        return await driver_connection(where)
    return where


async def _switch(connection: psycopg.AsyncConnection[Any], value: str) -> str:
    row = await _SWITCH.one(connection, name=TENANT_SETTING, value=value)
    return str(row.previous or "")


@asynccontextmanager
async def tenant_scope(where: InTransaction, account_id: UUID | None) -> AsyncIterator[None]:
    """The block runs as ``account_id`` (None: as no tenant); the tenant before it is set
    back when the block ends, normally or by an exception. After a database error the
    transaction can only roll back, which ends the setting anyway, so nothing is sent; a
    cancelled block sends nothing either."""
    connection = await _connection(where)
    previous = await _switch(connection, "" if account_id is None else str(account_id))
    try:
        yield
    except Exception:
        if connection.info.transaction_status == TransactionStatus.INTRANS:
            await _switch(connection, previous)
        raise
    await _switch(await _connection(where), previous)


async def enter_tenant(
    where: InTransaction,
    account_id: UUID | None,
    then: CompiledQuery | None = None,
    /,
    **params: Any,
) -> list[Any]:
    """Set the tenant for the rest of the transaction, at its boundary only (everywhere
    else: ``tenant_scope``), and run ``then`` with ``params`` after it in the same round
    trip; returns ``then``'s rows (none without it)."""
    connection = await _connection(where)
    setting, setting_params = tenant_setting(account_id)
    if then is None:
        await setting.run(connection, **setting_params)
        return []
    async with connection.pipeline():
        await setting.send(connection, **setting_params)
        cursor = await then.send(connection, **params)
    if cursor.description is None:  # a statement that returns no rows
        return []
    rows: list[Any] = await cursor.fetchall()
    return rows


async def current_tenant(where: InTransaction) -> UUID | None:
    value = (await _GET.one(where, name=TENANT_SETTING)).tenant
    return UUID(value) if value else None
