"""The published language: typed event classes, each registered in one catalog by its type."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

_catalog: dict[str, type[Event]] = {}


class Event(BaseModel):
    """A fact one context publishes; subclasses declare the payload's typed fields.

    A subclass that sets ``event_type`` registers itself in the catalog (one class per
    type); ``version`` is raised when the payload changes incompatibly.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    version: ClassVar[int] = 1
    aggregate_type: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is None:
            return  # an abstract family of events, not a published one
        if not _EVENT_TYPE.match(event_type):
            raise ValueError(f"event type {event_type!r} is not dotted lowercase words")
        if not isinstance(cls.__dict__.get("aggregate_type", cls.aggregate_type), str):
            raise ValueError(f"{cls.__name__} declares no aggregate_type")
        if cls.version < 1:
            raise ValueError(f"{cls.__name__}: version starts at 1")
        known = _catalog.get(event_type)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise ValueError(f"event type {event_type!r} is declared twice")
        _catalog[event_type] = cls

    def payload(self) -> dict[str, Any]:
        """The payload as stored (JSON types: uuids and datetimes as strings)."""
        return self.model_dump(mode="json")


def catalog() -> dict[str, type[Event]]:
    """Every declared event class by type, sorted by type."""
    return dict(sorted(_catalog.items()))


def event_class(event_type: str) -> type[Event] | None:
    return _catalog.get(event_type)
