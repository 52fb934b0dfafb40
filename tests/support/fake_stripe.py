"""A fake Stripe for tests: a real HTTP server on 127.0.0.1 (in a thread) speaking Stripe's
wire format — form-encoded requests with bracketed keys, bearer API keys, JSON objects and
errors shaped like Stripe's — for the Checkout Sessions the real ``stripe`` SDK creates and
retrieves; plus the events Stripe would send, signed exactly as Stripe signs webhooks."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TEST_API_KEY = "sk_test_fake_markettina"
TEST_WEBHOOK_SECRET = "whsec_test_fake_markettina"

_ids = itertools.count(1)


def stripe_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{secrets.token_hex(6)}"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding back into objects: ``a[b][0][c]=v`` -> {"a": {"b": [{"c": v}]}}."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for part, following in itertools.pairwise([*parts, None]):
            if following is None:
                node[part] = value
                break
            container: Any = [] if following.isdigit() else {}
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(container)
                node = node[index]
            else:
                node = node.setdefault(part, container)
    return _lists(root)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lists(v) for v in value]
    return value


def signature_header(payload: bytes, secret: str = TEST_WEBHOOK_SECRET, *,
                     timestamp: int | None = None) -> str:  # fmt: skip
    """``Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def _balance_move(amount: int, currency: str, category: str) -> dict[str, Any]:
    """A balance transaction as a dispute lists it (its fee left out: this fake charges none)."""
    return {
        "id": stripe_id("txn"), "object": "balance_transaction", "amount": amount,
        "currency": currency, "fee": 0, "net": amount, "reporting_category": category,
        "type": "adjustment", "status": "available",
    }  # fmt: skip


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]  # lower-case names


class FakeStripe:
    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, tuple[int, str]] = {}  # price id -> (unit amount, currency)
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- what Stripe would do on its side ------------------------------------------------------

    def pay(
        self, session_id: str, *, payment_status: str = "paid",
        email: str = "buyer@example.com", name: str = "Buyer Name",
    ) -> dict[str, Any]:  # fmt: skip
        """The buyer completes the checkout: the session as Stripe reports it then."""
        with self.lock:
            session = self.sessions[session_id]
            session.update(
                status="complete", payment_status=payment_status,
                payment_intent=session["payment_intent"] or stripe_id("pi"),
                customer_details={"email": email, "name": name, "address": None},
            )  # fmt: skip
            return json.loads(json.dumps(session))

    def charge_of(self, session: dict[str, Any], *, amount_refunded: int = 0) -> dict[str, Any]:
        return {
            "id": "ch_" + session["payment_intent"].removeprefix("pi_"), "object": "charge",
            "amount": session["amount_total"], "amount_refunded": amount_refunded,
            "currency": session["currency"], "payment_intent": session["payment_intent"],
            "refunded": amount_refunded >= session["amount_total"], "paid": True,
            "status": "succeeded", "metadata": session["metadata"],
        }  # fmt: skip

    def dispute_of(self, session: dict[str, Any], *, amount: int, status: str = "lost",
                   reinstated: int = 0) -> dict[str, Any]:  # fmt: skip
        """The dispute once ``amount`` was withdrawn and, if any, ``reinstated`` came back
        (all of it when the dispute was ``won``; after a lost one, what had been refunded)."""
        charge = self.charge_of(session)
        currency = session["currency"]
        moves = [_balance_move(-amount, currency, "dispute")]
        if reinstated:
            moves.append(_balance_move(reinstated, currency, "dispute_reversal"))
        return {
            "id": "dp_" + charge["id"].removeprefix("ch_"), "object": "dispute", "amount": amount,
            "charge": charge["id"], "currency": currency,
            "payment_intent": session["payment_intent"], "reason": "fraudulent",
            "status": status, "balance_transactions": moves, "metadata": {},
        }  # fmt: skip

    @staticmethod
    def event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
        """An event as Stripe's webhook sends it (the payload bytes to sign)."""
        body = {
            "id": event_id or stripe_id("evt"), "object": "event", "api_version": "2025-01-27",
            "created": int(time.time()), "type": event_type, "data": {"object": obj},
            "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }  # fmt: skip
        return json.dumps(body).encode()

    # --- the HTTP side ---------------------------------------------------------------------------

    def _create_session(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        items = params.get("line_items") or []
        if params.get("mode") != "payment" or len(items) != 1:
            return _error(400, "this fake takes mode=payment with one line item", "line_items")
        item = items[0]
        quantity = int(item.get("quantity", 1))
        if "price" in item:
            if item["price"] not in self.prices:
                return _error(404, f"No such price: '{item['price']}'", "line_items[0][price]",
                              code="resource_missing")  # fmt: skip
            unit, currency = self.prices[item["price"]]
        else:
            data = item.get("price_data") or {}
            unit, currency = int(data["unit_amount"]), data["currency"]
        if unit * quantity < 50:
            return _error(400, "The Checkout Session's total amount must be at least 0.50",
                          "line_items")  # fmt: skip
        session_id = stripe_id("cs")
        session = {
            "id": session_id, "object": "checkout.session", "mode": "payment",
            "status": "open", "payment_status": "unpaid",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "amount_subtotal": unit * quantity, "amount_total": unit * quantity,
            "currency": currency.lower(), "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {}, "payment_intent": None,
            "customer_email": params.get("customer_email"), "customer_details": None,
            "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
            "livemode": False, "created": int(time.time()),
        }  # fmt: skip
        with self.lock:
            self.sessions[session_id] = session
        return 200, session

    def handle(self, method: str, path: str, params: dict[str, Any],
               headers: dict[str, str]) -> tuple[int, dict[str, Any]]:  # fmt: skip
        with self.lock:
            self.requests.append(Request(method, path, params, headers))
        if headers.get("authorization") != f"Bearer {TEST_API_KEY}":
            return _error(401, "Invalid API Key provided", None, kind="authentication_error")
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        found = re.fullmatch(r"/v1/checkout/sessions/([\w]+)", path)
        if method == "GET" and found:
            with self.lock:
                session = self.sessions.get(found.group(1))
            if session is None:
                return _error(404, f"No such checkout.session: '{found.group(1)}'", "session",
                              code="resource_missing")  # fmt: skip
            return 200, session
        return _error(404, f"Unrecognized request URL ({method}: {path})", None)

    @contextmanager
    def running(self) -> Iterator[FakeStripe]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else url.query
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, obj = fake.handle(self.command, url.path, decode_form(body), headers)
                raw = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("Request-Id", stripe_id("req"))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=5)


def _error(status: int, message: str, param: str | None, *, code: str | None = None,
           kind: str = "invalid_request_error") -> tuple[int, dict[str, Any]]:  # fmt: skip
    error: dict[str, Any] = {"type": kind, "message": message}
    if param:
        error["param"] = param
    if code:
        error["code"] = code
    return status, {"error": error}
