"""A fake social platform for tests: an OAuth 2.0 provider (authorization code + PKCE S256,
refresh, a bearer profile) served over HTTP on 127.0.0.1, and the person's side of a
connection through the API (start, consent in the browser, callback)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from markettina.adapters.social import OAuth2Config, OAuth2Platform
from markettina.identity import social_ports
from tests.support.identity import Member

PLATFORM = "fakebook"
CLIENT_ID = "markettina-test"
CLIENT_SECRET = "fake-client-secret"
REDIRECT_URI = "https://app.example.com/social/callback"


# --- the fake platform: a real HTTP server on loopback ----------------------------------------


@dataclass
class FakeUser:
    id: str
    name: str
    username: str


@dataclass
class FakePlatform:
    """An OAuth 2.0 provider speaking the wire format (RFC 6749, RFC 7636) a real one does."""

    user: FakeUser = field(default_factory=lambda: FakeUser("1001", "Ada Lovelace", "ada"))
    expires_in: int = 3600
    failing_refreshes: int = 0  # the next N refresh requests answer 503
    refresh_revoked: bool = False  # refresh requests answer invalid_grant
    refresh_requests: int = 0
    failing_revocations: int = 0  # the next N revocation requests answer 503
    revoked: list[tuple[str, str]] = field(default_factory=list)  # (hint, token)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    access_tokens: dict[str, str] = field(default_factory=dict)  # token -> user id
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, FakeUser] = field(default_factory=dict)
    issued: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.user = FakeUser("1001", "Ada Lovelace", "ada")
        self.expires_in, self.failing_refreshes, self.refresh_revoked = 3600, 0, False
        self.refresh_requests, self.failing_revocations = 0, 0
        self.revoked.clear()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/authorize", self.authorize),
                Route("/oauth/token", self.token, methods=["POST"]),
                Route("/oauth/revoke", self.revoke, methods=["POST"]),
                Route("/api/me", self.me),
            ]
        )

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("response_type") != "code" or q.get("client_id") != CLIENT_ID:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE"}, 400)
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.users[self.user.id] = self.user
            self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"],
                                "user": self.user.id, "scope": q.get("scope", "")}  # fmt: skip
        target = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
        return RedirectResponse(target, status_code=302)

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        if not self._client_authenticated(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") == "authorization_code":
            return self._redeem_code(form)
        if form.get("grant_type") == "refresh_token":
            return self._refresh(form)
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

    def _client_authenticated(self, request: Request, form: dict[str, str]) -> bool:
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            given = base64.b64decode(basic[6:]).decode()
            return given == f"{CLIENT_ID}:{CLIENT_SECRET}"
        return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET

    def _redeem_code(self, form: dict[str, str]) -> Response:
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return _invalid_grant("unknown or used code")
        if s256(form.get("code_verifier", "")) != grant["challenge"]:
            return _invalid_grant("PKCE verification failed")
        return self._issue(grant["user"], grant["scope"])

    def _refresh(self, form: dict[str, str]) -> Response:
        with self.lock:
            self.refresh_requests += 1
            if self.failing_refreshes > 0:
                self.failing_refreshes -= 1
                return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
            if self.refresh_revoked:
                return _invalid_grant("the refresh token was revoked")
            user = self.refresh_tokens.pop(form.get("refresh_token", ""), None)  # rotated
        if user is None:
            return _invalid_grant("unknown refresh token")
        return self._issue(user, "profile publish")

    def _issue(self, user: str, scope: str) -> Response:
        body = {"access_token": "at-" + secrets.token_urlsafe(24), "token_type": "Bearer",
                "expires_in": self.expires_in, "refresh_token": "rt-" + secrets.token_urlsafe(24),
                "scope": scope}  # fmt: skip
        with self.lock:
            self.access_tokens[body["access_token"]] = user
            self.refresh_tokens[body["refresh_token"]] = user
            self.issued.append(body)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def revoke(self, request: Request) -> Response:
        """RFC 7009: the token is forgotten; an unknown one is answered 200 all the same."""
        form = dict(parse_qsl((await request.body()).decode()))
        if not self._client_authenticated(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        with self.lock:
            if self.failing_revocations > 0:
                self.failing_revocations -= 1
                return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
            token = form.get("token", "")
            self.revoked.append((form.get("token_type_hint", ""), token))
            self.access_tokens.pop(token, None)
            self.refresh_tokens.pop(token, None)
        return Response(status_code=200)

    async def me(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        user_id = self.access_tokens.get(token)
        if user_id is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        user = self.users[user_id]
        return JSONResponse({"id": user.id, "name": user.name, "username": user.username,
                             "picture": f"https://img.example/{user.username}.png"})  # fmt: skip


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _invalid_grant(description: str) -> Response:
    return JSONResponse({"error": "invalid_grant", "error_description": description}, 400)


@dataclass
class FakeServer:
    platform: FakePlatform
    base_url: str

    def config(self, **overrides: Any) -> OAuth2Config:
        values: dict[str, Any] = {
            "authorize_url": f"{self.base_url}/oauth/authorize?display=page",
            "token_url": f"{self.base_url}/oauth/token",
            "profile_url": f"{self.base_url}/api/me",
            "revocation_url": f"{self.base_url}/oauth/revoke",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": ("profile", "publish"),
            **overrides,
        }
        return OAuth2Config(**values)


@contextmanager
def serving() -> Iterator[FakeServer]:
    """A fake platform served on a free loopback port until the block ends."""
    platform = FakePlatform()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(platform.app(), log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the fake OAuth server did not start"
        time.sleep(0.01)
    try:
        yield FakeServer(platform, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def bound(server: FakeServer) -> Iterator[FakePlatform]:
    """The API's ``PLATFORM`` is the fake (reset to its first user) until the block ends."""
    social_ports.bind_platform(PLATFORM, OAuth2Platform(server.config()))
    server.platform.reset()
    try:
        yield server.platform
    finally:
        social_ports.platforms.pop(PLATFORM, None)


# --- the person's side, through the API ----------------------------------------------------------


async def start(client: httpx.AsyncClient, member: Member, **body: Any) -> httpx.Response:
    payload = {"platform": PLATFORM, "redirect_uri": REDIRECT_URI, **body}
    return await client.post("/v1/social-accounts/connect", json=payload, headers=member.headers)


async def consent(authorization_url: str) -> dict[str, str]:
    """The person's browser: open the consent page, be sent back with code and state."""
    async with httpx.AsyncClient() as browser:
        response = await browser.get(authorization_url, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def connect(client: httpx.AsyncClient, member: Member) -> httpx.Response:
    started = await start(client, member)
    assert started.status_code == 200, started.text
    returned = await consent(started.json()["authorization_url"])
    return await client.post("/v1/social-accounts/callback", json=returned, headers=member.headers)


async def connected(client: httpx.AsyncClient, member: Member) -> dict[str, Any]:
    response = await connect(client, member)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
