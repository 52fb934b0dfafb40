"""The webhook POST: signed, sent only to public addresses (judged after DNS resolution),
within a time budget, never following redirects, keeping the answer's first 4 KB."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
import uuid
from collections.abc import Iterator

import pytest

from markettina.kernel.webhooks.destinations import refusal
from markettina.kernel.webhooks.payloads import request_body, request_headers
from markettina.kernel.webhooks.sender import WebhookSender, body_prefix
from markettina.kernel.webhooks.signing import new_signing_secret, signature_header
from tests.support.webhook_receiver import Answer, WebhookReceiver, running_receiver

SECRET = "whsec_test-secret"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as started:
        yield started


def open_sender(*, allow_loopback: bool = True, timeout: float = 5) -> WebhookSender:
    return WebhookSender(timeout_seconds=timeout, allow_loopback=allow_loopback)


class TestRefusal:
    @pytest.mark.parametrize(
        ("address", "reason"),
        [
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),  # cloud metadata
            ("127.0.0.1", "loopback"),
            ("127.9.9.9", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("100.64.0.1", "non-public"),  # carrier-grade NAT
            ("240.0.0.1", "reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fe80::1", "link-local"),
            ("fc00::1", "private"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "link-local"),
        ],
    )
    def test_non_public_addresses_are_refused(self, address: str, reason: str) -> None:
        assert refusal(ipaddress.ip_address(address), allow_loopback=False) == reason

    @pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
    def test_public_addresses_pass(self, address: str) -> None:
        assert refusal(ipaddress.ip_address(address), allow_loopback=False) is None

    @pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
    def test_the_setting_lets_loopback_through_and_nothing_else(self, address: str) -> None:
        assert refusal(ipaddress.ip_address(address), allow_loopback=True) is None
        assert refusal(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) == "private"
        assert refusal(ipaddress.ip_address("169.254.1.1"), allow_loopback=True) == "link-local"


class TestSend:
    async def test_a_signed_json_post_with_the_event_headers(
        self, receiver: WebhookReceiver
    ) -> None:
        payload = {"id": "e1", "type": "lead.created", "data": {"name": "Zoé"}}
        body = request_body(payload)
        headers = request_headers(
            signing_secrets=(SECRET,), body=body, timestamp=int(time.time()),
            event_id=uuid.UUID(int=7), event_type="lead.created",
            delivery_id=uuid.UUID(int=8),
        )  # fmt: skip
        sender = open_sender()
        try:
            result = await sender.post(receiver.url(), body, headers)
        finally:
            await sender.close()
        assert result.succeeded and result.status == 200 and result.body == "ok"
        [got] = receiver.received
        assert got.signature_valid(SECRET)
        assert not got.signature_valid("whsec_another")
        assert json.loads(got.body) == payload
        assert got.headers["content-type"] == "application/json"
        assert got.headers["markettina-event-id"] == "00000000-0000-0000-0000-000000000007"
        assert got.headers["markettina-event-type"] == "lead.created"
        assert got.headers["user-agent"].startswith("Markettina-Webhooks/")

    async def test_non_2xx_is_a_failure_with_its_code_and_body(
        self, receiver: WebhookReceiver
    ) -> None:
        receiver.answer(Answer(status=503, body=b"busy"))
        sender = open_sender()
        try:
            result = await sender.post(receiver.url(), b"{}", {})
        finally:
            await sender.close()
        assert (result.status, result.body, result.failure()) == (503, "busy", "HTTP 503")

    async def test_a_redirect_is_not_followed(self, receiver: WebhookReceiver) -> None:
        with running_receiver() as elsewhere:
            target = elsewhere.url("/moved")
            receiver.answer(Answer(status=302, headers={"Location": target}))
            sender = open_sender()
            try:
                result = await sender.post(receiver.url(), b"{}", {})
            finally:
                await sender.close()
            assert elsewhere.received == []
        assert result.status == 302 and not result.succeeded
        assert result.location == target
        assert f"redirects are not followed (Location: {target})" in (result.failure() or "")

    async def test_a_receiver_that_hangs_is_timed_out(self, receiver: WebhookReceiver) -> None:
        receiver.answer(Answer(hang=True))
        sender = open_sender(timeout=0.5)
        started = time.monotonic()
        try:
            result = await sender.post(receiver.url(), b"{}", {})
        finally:
            await sender.close()
        assert 0.45 <= time.monotonic() - started < 3
        assert result.status is None and result.error == "timed out after 0.5 s"
        assert 450 <= result.elapsed_ms < 3000

    async def test_only_the_first_4_kb_of_the_answer_is_kept(
        self, receiver: WebhookReceiver
    ) -> None:
        receiver.answer(Answer(status=500, body=b"x" * 100_000))
        sender = open_sender()
        try:
            result = await sender.post(receiver.url(), b"{}", {})
        finally:
            await sender.close()
        assert result.body == "x" * 4096

    async def test_nobody_listening_is_a_connection_failure(self) -> None:
        with running_receiver() as gone:
            url = gone.url()
        sender = open_sender()
        try:
            result = await sender.post(url, b"{}", {})
        finally:
            await sender.close()
        assert result.status is None
        assert (result.error or "").startswith("connection failed")


class TestGuard:
    @pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]"])
    async def test_loopback_is_refused_unless_allowed(
        self, receiver: WebhookReceiver, host: str
    ) -> None:
        sender = open_sender(allow_loopback=False)
        try:
            result = await sender.post(receiver.url(host=host), b"{}", {})
        finally:
            await sender.close()
        assert (result.error or "").startswith("refused:"), result
        assert "loopback" in (result.error or "")
        assert receiver.received == []

    async def test_a_host_name_is_judged_by_the_address_it_resolves_to(
        self, receiver: WebhookReceiver
    ) -> None:
        refused, allowed = open_sender(allow_loopback=False), open_sender(allow_loopback=True)
        try:
            no = await refused.post(receiver.url(host="localhost"), b"{}", {})
            yes = await allowed.post(receiver.url(host="localhost"), b"{}", {})
        finally:
            await refused.close()
            await allowed.close()
        assert "localhost is 127.0.0.1, a loopback address" in (no.error or "")
        assert yes.succeeded and len(receiver.received) == 1
        assert receiver.received[0].headers["host"] == f"localhost:{receiver.port}"

    @pytest.mark.parametrize(
        "url",
        [
            "http://10.0.0.1/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:9/hook",
            "http://[fe80::1]/hook",
            "http://0.0.0.0:9/hook",
        ],
    )
    async def test_private_and_special_addresses_are_never_contacted(self, url: str) -> None:
        sender = open_sender(allow_loopback=False, timeout=5)
        started = time.monotonic()
        try:
            result = await sender.post(url, b"{}", {})
        finally:
            await sender.close()
        assert (result.error or "").startswith("refused:"), result
        assert time.monotonic() - started < 1  # refused before any connection attempt

    async def test_a_redirect_to_a_private_address_is_neither_followed_nor_contacted(
        self, receiver: WebhookReceiver
    ) -> None:
        receiver.answer(Answer(status=307, headers={"Location": "http://10.0.0.1/"}))
        sender = open_sender()
        try:
            result = await sender.post(receiver.url(), b"{}", {})
        finally:
            await sender.close()
        assert result.status == 307 and "Location: http://10.0.0.1/" in (result.failure() or "")


class TestSigning:
    def test_signature_header_is_timestamp_and_hmac_of_timestamp_dot_body(self) -> None:
        body = b'{"a":1}'
        expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
        assert signature_header(("whsec_k",), body, 1700000000) == f"t=1700000000,v1={expected}"

    def test_one_v1_per_secret_the_current_one_first(self) -> None:
        body = b'{"a":1}'
        current, previous = (
            hmac.new(key, b"1700000000." + body, hashlib.sha256).hexdigest()
            for key in (b"whsec_new", b"whsec_old")
        )
        header = signature_header(("whsec_new", "whsec_old"), body, 1700000000)
        assert header == f"t=1700000000,v1={current},v1={previous}"

    def test_secrets_are_random_and_prefixed(self) -> None:
        first, second = new_signing_secret(), new_signing_secret()
        assert first.startswith("whsec_") and len(first) > 40 and first != second


class TestBodyPrefix:
    def test_cut_at_4096_bytes_never_inside_a_character(self) -> None:
        text = body_prefix(("é" * 3000).encode())  # 2 bytes each
        assert len(text.encode()) == 4096 and set(text) == {"é"}
        odd = body_prefix(b"a" + ("é" * 3000).encode())
        assert len(odd.encode()) == 4095  # the cut half character is dropped

    def test_undecodable_bytes_and_nul_are_replaced_within_the_limit(self) -> None:
        text = body_prefix(b"\xff\x00" * 3000)
        assert "\x00" not in text and len(text.encode()) <= 4096
        assert set(text) == {"\ufffd"}
