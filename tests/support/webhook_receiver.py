"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 (in a thread) that
answers from a script and checks each request's signature with its own HMAC code."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # hold the request until the receiver is released or stopped


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float

    def signature_valid(self, secret: str, *, tolerance_seconds: float = 300) -> bool:
        """Stripe-style: t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>[,v1=...],
        recent; valid if any v1 is the secret's."""
        pairs = [
            item.partition("=")[::2]
            for item in self.headers.get("markettina-signature", "").split(",")
        ]
        timestamp = next((value for name, value in pairs if name == "t"), "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance_seconds:
            return False
        expected = hmac.new(
            secret.encode(), timestamp.encode() + b"." + self.body, hashlib.sha256
        ).hexdigest()
        # during a secret's grace period the header carries one v1 per secret: any may match
        return any(hmac.compare_digest(expected, value) for name, value in pairs if name == "v1")


class WebhookReceiver:
    def __init__(self) -> None:
        self.script: deque[Answer] = deque()
        self.default = Answer()
        self.received: list[Received] = []
        self.arrived = threading.Condition()
        self.released = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def answer(self, *answers: Answer) -> None:
        """The next requests get these answers, in order; then the default one."""
        self.script.extend(answers)

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{len(self.received)} requests arrived, not {count}")
            return list(self.received)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length", "0"))
        body = request.rfile.read(length)
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer = self.script.popleft() if self.script else self.default
        with self.arrived:
            self.received.append(Received(request.path, headers, body, time.monotonic()))
            self.arrived.notify_all()
        if answer.hang:
            self.released.wait(60)
            return  # no answer at all
        request.send_response(answer.status)
        for name, value in answer.headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(answer.body)))
        request.end_headers()
        request.wfile.write(answer.body)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def running_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
