"""Handlers: named functions run by the relay for each event whose type matches a pattern."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class StoredEvent:
    """An event as the outbox holds it: what handlers receive."""

    id: uuid.UUID
    account_id: uuid.UUID
    created_at: dt.datetime
    event_type: str
    version: int
    aggregate_type: str
    aggregate_id: str
    aggregate_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]


Handler = Callable[[AsyncSession, StoredEvent], Awaitable[None]]


@dataclass(frozen=True)
class RegisteredHandler:
    name: str
    patterns: tuple[str, ...]
    handle: Handler

    def wants(self, event_type: str) -> bool:
        return any(event_matches(pattern, event_type) for pattern in self.patterns)


_handlers: dict[str, RegisteredHandler] = {}


@lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern))
    )


def event_matches(pattern: str, event_type: str) -> bool:
    """Whether ``event_type`` matches ``pattern``, where ``*`` stands for any characters
    (dots included): ``*`` matches everything, ``lead.*`` every lead event."""
    return _pattern(pattern).fullmatch(event_type) is not None


def event_handler(name: str, *patterns: str) -> Callable[[Handler], Handler]:
    """Register ``handle`` under ``name`` for the event types matching any of ``patterns``.

    The name is the handler's identity (logs, idempotency records): registering another
    function under a taken name is an error, re-importing the same one is not.
    """
    if not patterns:
        raise ValueError(f"handler {name!r} needs at least one event type pattern")

    def register(handle: Handler) -> Handler:
        known = _handlers.get(name)
        if known is not None and known.handle.__qualname__ != handle.__qualname__:
            raise ValueError(f"an event handler is already registered as {name!r}")
        _handlers[name] = RegisteredHandler(name, tuple(patterns), handle)
        return handle

    return register


def handlers_for(event_type: str) -> list[RegisteredHandler]:
    """The handlers to run for one event type, in name order (a stable, logged order)."""
    return [h for _, h in sorted(_handlers.items()) if h.wants(event_type)]


def registered_handlers() -> dict[str, RegisteredHandler]:
    return dict(_handlers)
