"""The column families every model is built from (schema.md, "Rules that hold for every table").

Tenant tables mix in ``TenantScoped`` (or ``LegacyTenantScoped`` for v1 integer ids):
``account_id`` first, primary key ``(account_id, id)``. References between tenant tables
go through ``tenant_fk`` so they are composite and can never cross accounts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    REAL,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Integer,
    TypeDecorator,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

NOW = text("now()")
NEW_UUID = text("gen_random_uuid()")


def tenant_fk(
    columns: Sequence[str],
    target: str,
    *,
    target_columns: Sequence[str] = ("id",),
    ondelete: str | None = None,
) -> ForeignKeyConstraint:
    """A reference to another tenant table, always through ``account_id``.

    For an optional reference use ``ondelete="SET NULL (col)"`` (PostgreSQL 15+): setting
    only the referring column keeps ``account_id`` intact.
    """
    return ForeignKeyConstraint(
        ["account_id", *columns],
        [f"{target}.account_id", *(f"{target}.{c}" for c in target_columns)],
        ondelete=ondelete,
    )


def one_of(column: str, values: Sequence[str], *, name: str | None = None) -> CheckConstraint:
    """A status-like text column restricted to ``values`` (rule 8)."""
    allowed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return CheckConstraint(
        f"{column} IN ({allowed})",
        name=name or column,
        info={"column": column, "allowed": tuple(values)},
    )


class Embedding(TypeDecorator[list[float]]):
    """A float vector: ``real[]`` in the models, pgvector's ``vector`` where the server has it.

    Lists bind as ``real[]`` (pgvector casts them on assignment); a ``vector`` comes back
    as text like ``[0.1,0.2]`` (its type is not registered with the driver) and is parsed.
    """

    impl = ARRAY(REAL)
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        def process(value: Any) -> list[float] | None:
            if value is None or isinstance(value, list):
                return value
            return [float(x) for x in str(value).strip("[]{}").split(",") if x.strip()]

        return process


class TenantScoped:
    """A tenant table with a uuid id: primary key (account_id, id)."""

    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id"), primary_key=True, sort_order=-100
    )
    id: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=NEW_UUID, sort_order=-99
    )


class LegacyTenantScoped:
    """A v1 table that kept its integer identity id.

    SQLAlchemy puts an identity column first in a primary key built from columns, so these
    tables declare ``PrimaryKeyConstraint("account_id", "id")`` in ``__table_args__``.
    """

    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id"), primary_key=True, sort_order=-100
    )
    id: Mapped[int] = mapped_column(
        Integer, Identity(), primary_key=True, autoincrement=True, sort_order=-99
    )


class Audited:
    """created_at / updated_at (updated_at is kept by trigger)."""

    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=NOW, sort_order=90
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=NOW, sort_order=91
    )


class Created:
    """Append-only rows: created_at only."""

    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=NOW, sort_order=90
    )


class SoftDeleted:
    """Aggregate roots are soft-deleted (rule 6)."""

    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), sort_order=95)
    deleted_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True, sort_order=96
    )


class Versioned:
    """Optimistic locking (rule 7): version is incremented by trigger on every update."""

    version: Mapped[int] = mapped_column(Integer, server_default=text("1"), sort_order=97)
