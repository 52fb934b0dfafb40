"""One webhook POST: to a vetted address, within a time budget, never following a
redirect, reading no more of the answer than the log keeps."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from dataclasses import dataclass

import httpcore

from .destinations import GuardedNetwork, RefusedDestination, UnresolvedHost

RESPONSE_BODY_MAX_BYTES = 4096

# httpcore imports sniffio on every request (to tell asyncio from trio); it is not
# installed, and a failed import searches sys.path again each time (about 8% of a
# delivery's CPU, measured). Its absence recorded once, the import fails at once.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SendResult:
    """What one attempt came to: a response (any status), or the error that prevented one."""

    elapsed_ms: int
    status: int | None = None
    body: str | None = None  # the first 4 KB, as text
    location: str | None = None  # a redirect's target (never followed)
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def failure(self) -> str | None:
        """Why the attempt failed, in words for the delivery log (None: it succeeded)."""
        if self.succeeded:
            return None
        if self.error is not None:
            return self.error
        if self.status is not None and 300 <= self.status < 400:
            return f"HTTP {self.status}: redirects are not followed (Location: {self.location})"
        return f"HTTP {self.status}"


def body_prefix(raw: bytes) -> str:
    """At most 4096 bytes of UTF-8 text: undecodable bytes and NULs replaced, a character
    cut at the limit dropped."""
    text = raw[:RESPONSE_BODY_MAX_BYTES].decode("utf-8", "replace").replace("\x00", "\ufffd")
    return text.encode()[:RESPONSE_BODY_MAX_BYTES].decode("utf-8", "ignore")


class WebhookSender:
    """A connection pool whose connections go only where the guard allows."""

    def __init__(self, *, timeout_seconds: float, allow_loopback: bool) -> None:
        self.timeout_seconds = timeout_seconds
        self._pool = httpcore.AsyncConnectionPool(
            network_backend=GuardedNetwork(allow_loopback=allow_loopback),
            max_connections=100,
            keepalive_expiry=30,
            retries=0,
        )

    async def close(self) -> None:
        await self._pool.aclose()

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_seconds):  # however the answer trickles
                status, raw, location = await self._exchange(url, body, headers)
        except (RefusedDestination, UnresolvedHost, httpcore.UnsupportedProtocol) as exc:
            return SendResult(elapsed_ms=_since(started), error=f"refused: {exc}")
        except (TimeoutError, httpcore.TimeoutException):
            error = f"timed out after {self.timeout_seconds:g} s"
            return SendResult(elapsed_ms=_since(started), error=error)
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            error = f"connection failed: {str(exc) or type(exc).__name__}"
            return SendResult(elapsed_ms=_since(started), error=error)
        if not 100 <= status <= 599:
            return SendResult(elapsed_ms=_since(started), error=f"invalid HTTP status {status}")
        return SendResult(elapsed_ms=_since(started), status=status, body=body_prefix(raw),
                          location=location)  # fmt: skip

    async def _exchange(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, str | None]:
        timeout = self.timeout_seconds
        async with self._pool.stream(
            "POST",
            url,
            headers=[(k.encode(), v.encode()) for k, v in headers.items()],
            content=body,
            extensions={
                "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
            },
        ) as response:
            raw = b""
            async for chunk in response.aiter_stream():
                raw += chunk
                if len(raw) >= RESPONSE_BODY_MAX_BYTES:
                    break  # the rest is never read (the connection is dropped)
            location = next(
                (v.decode("latin-1") for k, v in response.headers if k.lower() == b"location"),
                None,
            )
            return response.status, raw, location


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
