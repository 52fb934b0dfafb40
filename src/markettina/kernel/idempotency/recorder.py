"""Recording the response of a committed idempotent request, and replaying it.

The request's transaction commits before its response is sent (the pipeline's
``scope="function"`` transaction), so the response is recorded right after, on an
autocommit connection, and only then sent: the client never gets an answer that a replay
would not give again. If the process dies between the commit and the record, the key stays
claimed without a response and a retry gets 409, never a second execution.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..db.autocommit import AutocommitPool
from ..logs import get_logger
from .claims import UNSAFE_METHODS, IdempotentReplay, PendingKey, attach

_HEADER = b"idempotency-key"
_RECORD = "SELECT idempotency_record(%s, %s, %s, %s, %s::jsonb)"
# per-request headers: recomputed or set again on every answer, never replayed
_NOT_RECORDED = frozenset(
    {
        b"content-length", b"date", b"server", b"x-request-id", b"retry-after",
        b"ratelimit-limit", b"ratelimit-remaining", b"ratelimit-reset",
    }
)  # fmt: skip
REPLAYED = (b"idempotent-replayed", b"true")

log = get_logger(__name__)


def _stored(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> dict[str, Any]:
    data: dict[str, Any] = {
        "headers": [
            [name.decode("latin-1"), value.decode("latin-1")]
            for name, value in headers
            if name.lower() not in _NOT_RECORDED
        ]
    }
    try:
        data["body"] = body.decode()
    except UnicodeDecodeError:
        data["body_base64"] = base64.b64encode(body).decode()
    return data


def _body_of(data: dict[str, Any]) -> bytes:
    if "body_base64" in data:
        return base64.b64decode(data["body_base64"])
    return str(data.get("body", "")).encode()


class IdempotencyRecorder:
    """ASGI middleware: notes an unsafe request's key for the pipeline's claim, and holds
    back the response of a request whose claim committed until it is recorded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        raw = next((value for name, value in scope["headers"] if name == _HEADER), None)
        if raw is None:
            await self.app(scope, receive, send)
            return
        pending = attach(scope, raw.decode("latin-1"))
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_recorded(message: Message) -> None:
            nonlocal start
            if not pending.committed:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            body = b"".join(chunks)
            await _record(scope, pending, start, body)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_recorded)


async def _record(scope: Scope, pending: PendingKey, start: Message, body: bytes) -> None:
    pool: AutocommitPool = scope["app"].state.autocommit
    data = _stored(start["status"], list(start.get("headers", [])), body)
    try:
        await pool.fetch_one(
            _RECORD,
            (pending.account_id, pending.raw, pending.request_hash, start["status"],
             json.dumps(data)),
        )  # fmt: skip
    except Exception:  # the answer still goes out; a retry of the key gets 409, not a rerun
        log.exception("idempotent_response_not_recorded", key=pending.raw)


async def _on_replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    response = Response(content=_body_of(exc.response_data), status_code=exc.status_code)
    response.raw_headers.extend(
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in exc.response_data.get("headers", [])
    )
    response.raw_headers.append(REPLAYED)
    return response


def install(app: FastAPI) -> None:
    """The recorder and the replay answer (the request pipeline calls ``claim``)."""
    app.add_middleware(IdempotencyRecorder)
    app.add_exception_handler(IdempotentReplay, _on_replay)
