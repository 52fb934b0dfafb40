"""Each process's memory of the flags: one entry per account, kept a short while and dropped
at once when a flag changes (the change listener, or this process's own commit)."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

CACHE_TTL_SECONDS = 30.0  # the safety net if a change notification is ever missed
CACHE_MAX_ACCOUNTS = 10_000


@dataclass(frozen=True)
class Feature:
    """What one flag means for one account."""

    enabled: bool
    config: Mapping[str, Any] = field(default_factory=dict)


Features = Mapping[str, Feature]


class FlagCache:
    """Accounts' effective features, least recently used dropped first.

    ``generation`` moves on every ``clear``: a value read from the database before a clear
    is not stored after it (``put`` names the generation its read started in).
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = CACHE_TTL_SECONDS,
        max_accounts: int = CACHE_MAX_ACCOUNTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_accounts
        self._clock = clock
        self._entries: OrderedDict[uuid.UUID, tuple[float, Features]] = OrderedDict()
        self.generation = 0

    def get(self, account_id: uuid.UUID) -> Features | None:
        entry = self._entries.get(account_id)
        if entry is None:
            return None
        expires, features = entry
        if expires <= self._clock():
            del self._entries[account_id]
            return None
        self._entries.move_to_end(account_id)
        return features

    def put(self, account_id: uuid.UUID, features: Features, *, generation: int) -> None:
        if generation != self.generation:
            return  # a flag changed while this was read: it may already be stale
        self._entries[account_id] = (self._clock() + self._ttl, features)
        self._entries.move_to_end(account_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


flag_cache = FlagCache()
