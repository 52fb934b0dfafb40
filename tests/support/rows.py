"""Valid rows for any table, built from the models' metadata.

Required columns get values from their type (the first allowed value for a status
column); required references get a parent row built the same way, in the same account.
A table the generic rules cannot satisfy gets an entry in OVERRIDES: a new table is then
covered by every test that walks the catalog, or those tests fail and say which table.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Integer,
    Numeric,
    SmallInteger,
    Table,
    Text,
    Time,
    Uuid,
    insert,
)
from sqlalchemy.dialects.postgresql import CHAR, INET, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from markettina.kernel.db.tenant import TENANT_SETTING
from markettina.schema import metadata

# values the generic rules cannot guess (JSON shapes, cross-column rules)
OVERRIDES: dict[str, dict[str, Any]] = {
    "approval_workflows": {"steps": [{"step": 1, "approvers": {"role": "admin"}, "required": 1}]},
    "workflows": {"trigger_config": {"event_type": "lead.created"}},
    "webhooks": {"url": "https://hooks.example.com/markettina"},
    "lead_status_changes": {"from_status": "NEW", "to_status": "CONTACTED"},
    # a series ends by a day or after a count (h-calendar)
    "post_series": {"occurrences": 1},
}

_counter = itertools.count(1)


def _allowed_values(table: Table) -> dict[str, tuple[str, ...]]:
    allowed: dict[str, tuple[str, ...]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint) and "allowed" in constraint.info:
            allowed[constraint.info["column"]] = constraint.info["allowed"]
    return allowed


def _value_for(table: Table, column: Column[Any], allowed: dict[str, tuple[str, ...]]) -> Any:
    if column.name in allowed:
        return allowed[column.name][0]
    kind = column.type
    n = next(_counter)
    if isinstance(kind, CHAR):
        return "EUR"
    if isinstance(kind, Text):
        return f"{column.name[:4]}{n:06d}"
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, (Integer, BigInteger, SmallInteger)):
        return 1
    if isinstance(kind, Numeric):
        return Decimal(1)
    if isinstance(kind, DateTime):
        return dt.datetime.now(dt.UTC)
    if isinstance(kind, Date):
        return dt.date.today()
    if isinstance(kind, Time):
        return dt.time(9)
    if isinstance(kind, Uuid):
        return uuid.uuid4()
    if isinstance(kind, JSONB):
        return {}
    if isinstance(kind, INET):
        return "127.0.0.1"
    if isinstance(kind, ARRAY):
        return [uuid.uuid4()] if isinstance(kind.item_type, Uuid) else [f"item-{n}"]
    raise TypeError(f"no generic value for {table.name}.{column.name} ({kind!r})")


def _required(column: Column[Any]) -> bool:
    return not (
        column.nullable
        or column.server_default is not None
        or column.computed is not None
        or column.identity is not None
        or column.default is not None
    )


async def set_tenant(conn: AsyncConnection, account_id: uuid.UUID | None) -> None:
    from sqlalchemy import text

    await conn.execute(
        text("SELECT set_config(:n, :v, true)"),
        {"n": TENANT_SETTING, "v": "" if account_id is None else str(account_id)},
    )


class RowBuilder:
    """Inserts rows through one connection (as whoever that connection is)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def account(self) -> uuid.UUID:
        row = await self.insert("accounts", None)
        return row["id"]

    def values(self, table: Table) -> dict[str, Any]:
        """The generic values of the required, non-reference columns of ``table``."""
        allowed = _allowed_values(table)
        referencing = {c.name for fk in table.foreign_key_constraints for c in fk.columns}
        values = {
            column.name: _value_for(table, column, allowed)
            for column in table.columns
            if _required(column) and column.name not in referencing
        }
        values.update(OVERRIDES.get(table.name, {}))
        return values

    async def parents(self, table: Table, account_id: uuid.UUID | None) -> dict[str, Any]:
        """Parent rows for every required reference, in the same account."""
        values: dict[str, Any] = {}
        for fk in table.foreign_key_constraints:
            local = [c for c in fk.columns if c.name != "account_id"]
            target = fk.referred_table
            if not local or target is table or not any(_required(c) for c in local):
                continue
            if target.name == "accounts":
                continue
            tenant = account_id if "account_id" in target.c else None
            parent = await self.insert(target.name, tenant)
            for column, element in zip(fk.columns, fk.elements, strict=True):
                if column.name != "account_id":
                    values[column.name] = parent[element.column.name]
        return values

    async def insert(
        self, table_name: str, account_id: uuid.UUID | None, **overrides: Any
    ) -> dict[str, Any]:
        table = metadata.tables[table_name]
        values = self.values(table)
        values.update(await self.parents(table, account_id))
        if "account_id" in table.c and account_id is not None:
            values["account_id"] = account_id
        values.update(overrides)
        await set_tenant(self.conn, account_id if "account_id" in table.c else None)
        # the key is all a caller needs, and it reads back on every server
        result = await self.conn.execute(
            insert(table).values(**values).returning(*table.primary_key.columns)
        )
        return dict(result.mappings().one())
