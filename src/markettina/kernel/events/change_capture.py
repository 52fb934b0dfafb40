"""The events the change-capture trigger writes (migration 0003, ``capture_change``).

Every change of a captured row appends ``<aggregate>.<action>`` with the row as JSON, in
the changing transaction: ``created`` (an insert), ``updated``, ``deleted`` and
``restored`` (an update; the last two set or clear ``deleted_at``), ``erased`` (a
delete). The metadata names the source (``change_capture``), the table and the
transaction id. Declared here so that they are validated and documented like any other.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .catalog import Event

# table -> aggregate, as migration 0003 installs the trigger
CAPTURED_AGGREGATES = {"leads": "lead", "campaigns": "campaign", "brand_dna": "brand_dna"}


class RowCreated(Event):
    after: dict[str, Any] = Field(description="The new row, every column.")


class RowChanged(Event):
    changed: list[str] = Field(
        description="The columns whose value changed, sorted (updated_at and version aside)."
    )
    after: dict[str, Any] = Field(description="The row after the change, every column.")


class RowErased(Event):
    before: dict[str, Any] = Field(description="The row as it was before the delete.")


_ACTIONS: dict[str, tuple[type[Event], str]] = {
    "created": (RowCreated, "A {aggregate} was created."),
    "updated": (RowChanged, "A {aggregate} changed (not its deletion state)."),
    "deleted": (RowChanged, "A {aggregate} was soft-deleted (deleted_at set)."),
    "restored": (RowChanged, "A soft-deleted {aggregate} was restored (deleted_at cleared)."),
    "erased": (RowErased, "A {aggregate} row was deleted for good."),
}


def _declare(table: str, aggregate: str, action: str) -> type[Event]:
    base, doc = _ACTIONS[action]
    name = "".join(part.title() for part in aggregate.split("_")) + action.title()
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": doc.format(aggregate=aggregate.replace("_", " "))
        + f" Written by the trigger on {table}.",
        "event_type": f"{aggregate}.{action}",
        "aggregate_type": aggregate,
    }
    return type(name, (base,), namespace)


CHANGE_CAPTURE_EVENTS: dict[str, type[Event]] = {
    cls.event_type: cls
    for table, aggregate in CAPTURED_AGGREGATES.items()
    for action in _ACTIONS
    for cls in [_declare(table, aggregate, action)]
}
