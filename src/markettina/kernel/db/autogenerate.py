"""What Alembic's comparison of models and database ignores, shared by autogenerate and the
drift test: objects the models do not own, and the one column whose type is chosen per server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, REAL

# tables in the database that no model declares, on purpose
FOREIGN_TABLE_PREFIXES = ("procrastinate_",)
PARTITIONED_PARENTS = ("domain_events",)


def is_partition(name: str) -> bool:
    return any(name.startswith(parent + "_") for parent in PARTITIONED_PARENTS)


def _foreign(table_name: str) -> bool:
    return table_name.startswith(FOREIGN_TABLE_PREFIXES) or is_partition(table_name)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name is not None and _foreign(name):
        return False
    table = getattr(obj, "table", None)
    return not _foreign(getattr(table, "name", "") or "")


def compare_type(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    """document_chunks.embedding is pgvector's ``vector`` where the server has it, else
    ``real[]`` as the model declares: both are the model's intent."""
    declared = getattr(metadata_type, "impl", metadata_type)
    if isinstance(declared, ARRAY) and isinstance(declared.item_type, REAL):
        reflected = type(inspected_type).__name__.lower()
        if reflected in {"nulltype", "vector"}:
            return False
    return None
