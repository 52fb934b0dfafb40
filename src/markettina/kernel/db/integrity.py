"""A violated constraint becomes a typed error naming the offending field, never a 500.

unique -> 409 Conflict; foreign key, check, not-null -> 422 ValidationFailed; a row outside
the acting account (row-level security) -> 403 Forbidden. The fields
come from the constraint's columns as the models declare them (account_id left out: the
caller never sends it).
"""

from __future__ import annotations

import re

from sqlalchemy import CheckConstraint, Index, Table
from sqlalchemy.exc import DBAPIError

from ..errors import Conflict, FieldError, Forbidden, MarkettinaError, ValidationFailed
from .base import Base

UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
NOT_NULL_VIOLATION = "23502"
CHECK_VIOLATION = "23514"
EXCLUSION_VIOLATION = "23P01"
INSUFFICIENT_PRIVILEGE = "42501"  # also what a row-level security WITH CHECK raises

FIELD_PREFIX = "body."


def _columns_of(table: Table, constraint_name: str) -> list[str]:
    for constraint in table.constraints:
        if constraint.name != constraint_name:
            continue
        if isinstance(constraint, CheckConstraint):
            expression = str(constraint.sqltext)
            return [c.name for c in table.columns if re.search(rf"\b{c.name}\b", expression)]
        return [c.name for c in constraint.columns]  # type: ignore[attr-defined]
    for index in table.indexes:
        if isinstance(index, Index) and index.name == constraint_name:
            named = [c.name for c in index.columns]
            if named:
                return named
            expression = " ".join(str(e) for e in index.expressions)
            return [c.name for c in table.columns if re.search(rf"\b{c.name}\b", expression)]
    return []


def constraint_fields(table_name: str | None, constraint_name: str | None) -> list[str]:
    table = Base.metadata.tables.get(table_name or "")
    if table is None or not constraint_name:
        return []
    return [name for name in _columns_of(table, constraint_name) if name != "account_id"]


def translate_database_error(exc: DBAPIError) -> MarkettinaError | None:
    """The typed error for a refused change, or None for a failure that is ours (a 500)."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    table = getattr(diag, "table_name", None)
    constraint = getattr(diag, "constraint_name", None)
    column = getattr(diag, "column_name", None)
    fields = constraint_fields(table, constraint) or ([column] if column else [])
    where = ", ".join(fields) or (constraint or "input")

    def errors(message: str, code: str) -> list[FieldError]:
        return [FieldError(FIELD_PREFIX + f, message, code) for f in fields]

    if sqlstate in (UNIQUE_VIOLATION, EXCLUSION_VIOLATION):
        return Conflict(f"{where}: already taken", errors=errors("already taken", "unique"))
    if sqlstate == FOREIGN_KEY_VIOLATION:
        return ValidationFailed(
            f"{where}: refers to something that does not exist or is still in use",
            errors=errors("does not exist or is still in use", "reference"),
        )
    if sqlstate == NOT_NULL_VIOLATION:
        return ValidationFailed(f"{where}: is required", errors=errors("is required", "required"))
    if sqlstate == CHECK_VIOLATION:
        return ValidationFailed(
            f"{where}: violates rule {constraint}", errors=errors(f"violates {constraint}", "check")
        )
    if sqlstate == INSUFFICIENT_PRIVILEGE:
        return Forbidden("the change touches rows outside the acting account")
    return None
