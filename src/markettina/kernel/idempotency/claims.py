"""Claiming an ``Idempotency-Key`` inside the request's transaction.

The claim row commits or rolls back with the request's own changes, so a key is stored
exactly when the work it names committed: a request that failed (401, 403, 404, 422, a
conflict, a 500) leaves nothing, and the client may retry with the same key. A duplicate
arriving while the first holds the key gets 409 at once (an advisory lock, not a wait);
one arriving after it committed gets the recorded response back; the same key with
another request (method, path and query, body, or caller) gets 422.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.types import Scope

from ..errors import Conflict, FieldError, ValidationFailed

HEADER = "Idempotency-Key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
_STATE_KEY = "idempotency"
_FIELD = f"header.{HEADER}"

_CLAIM = text("SELECT * FROM idempotency_claim(:account, :key, :endpoint, :request_hash)")


@dataclass
class PendingKey:
    """One unsafe request's key, from the header to the recorded response."""

    raw: str
    account_id: uuid.UUID | None = None
    request_hash: str | None = None
    committed: bool = False  # the claim (and the request's changes) committed

    def mark_committed(self, _session: Any) -> None:
        self.committed = True


class IdempotentReplay(Exception):  # not an error: it answers with the stored response
    """The key's request has completed: answer with what it answered."""

    def __init__(self, status_code: int, response_data: dict[str, Any]) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.response_data = response_data


def pending_key(scope: Scope) -> PendingKey | None:
    """The request's key, if it is an unsafe request that sent one (the recorder put it)."""
    state: dict[str, Any] | None = scope.get("state")
    return None if state is None else state.get(_STATE_KEY)


def attach(scope: Scope, raw: str) -> PendingKey:
    pending = PendingKey(raw=raw)
    scope.setdefault("state", {})[_STATE_KEY] = pending
    return pending


def _valid_key(raw: str) -> str:
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in raw):
        rule = f"1 to {MAX_KEY_LENGTH} printable ASCII characters"
        raise ValidationFailed(
            f"{HEADER} must be {rule}",
            errors=[FieldError(_FIELD, rule, "invalid_key")],
            code="idempotency_key_invalid",
        )
    return raw


def request_hash(method: str, path: str, query: bytes, caller: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, caller.encode()):
        digest.update(part)
        digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


async def claim(
    request: Request,
    session: AsyncSession,
    pending: PendingKey,
    *,
    account_id: uuid.UUID,
    caller: str,
) -> None:
    """Claim the key for this request, or raise: 409 in flight, 422 reused, or the replay.
    ``caller`` names the principal: another caller's key never replays to this one."""
    key = _valid_key(pending.raw)
    scope = request.scope
    fingerprint = request_hash(
        scope["method"], scope["path"], scope["query_string"], caller, await request.body()
    )
    state, stored_hash, status_code, response_data = (
        await session.execute(
            _CLAIM,
            {
                "account": account_id,
                "key": key,
                "endpoint": f"{scope['method']} {scope['path']}",
                "request_hash": fingerprint,
            },
        )
    ).one()
    if state == "claimed":
        pending.account_id, pending.request_hash = account_id, fingerprint
        event.listen(session.sync_session, "after_commit", pending.mark_committed, once=True)
        return
    if state == "found" and stored_hash != fingerprint:
        raise ValidationFailed(
            f"this {HEADER} was used for another request; use a new key",
            errors=[FieldError(_FIELD, "already used for another request", "key_reused")],
            code="idempotency_key_reused",
        )
    if state == "in_flight" or status_code is None:
        raise Conflict(
            f"a request with this {HEADER} is still in progress; retry later",
            code="idempotency_key_in_flight",
        )
    raise IdempotentReplay(status_code, response_data)
