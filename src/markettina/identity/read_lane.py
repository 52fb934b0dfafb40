"""The read lane: the request pipeline, without the web framework, for the plain reads
that are most of an API's traffic (a page of a list, for a person signed in or an API key).

A plain read is one compiled statement whose row PostgreSQL renders as the response
body. The lane runs the same steps as the routed pipeline (``dependencies``), through
the same functions: the access token checked (or the key's prefix read), the caller's
context looked up (one round trip, ``BEGIN`` included), the permission authorized, the
request counted against the rate limit, then the tenant set and the page read (with a
key's use recorded, in the same round trip) and the transaction committed. What
it skips is per-request framework work: routing through every
route, solving dependencies, validating parameters, converting rows, which cost an API
process several times the database's share of a request.

The lane answers only requests it can answer in full. Anything else (a key acting for a
sub-account, two credentials, an odd query string, a refusal of any kind, a full rate
limit) goes, untouched, to the routed
pipeline before anything is counted or written, and gets its usual answer there: the
lane never has an error format of its own. Both paths give the same status, body and
headers (tests hold them equal), and the route is still declared for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.db.tenant import tenant_setting
from markettina.kernel.errors import MarkettinaError
from markettina.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_time_cursor
from markettina.kernel.rate_limits import count
from markettina.kernel.security import api_key_prefix

from .principal import (
    Actor,
    account_from_header,
    key_actor,
    key_context,
    key_touch,
    principal_from_token,
    user_actor,
    user_context,
)

_MAX_CURSOR = 512  # as the routed ``Cursor`` parameter


@dataclass(frozen=True)
class PlainRead:
    """A GET route the lane may answer: ``route`` is its template as the router reports it
    (for metrics and logs), ``params`` the statement's parameters for the actor."""

    route: str
    permission: str
    page: NewestFirst
    params: Callable[[Actor], dict[str, Any]]


@dataclass(frozen=True)
class _LaneRoute:
    path: str  # what the request-context middleware labels the request with


@dataclass(frozen=True)
class _Request:
    token: str | None  # a person's access token, or
    key: str | None  # an API key, acting for its own account
    account_header: str | None
    limit: int
    cursor: str | None


def _page_arguments(query_string: bytes) -> tuple[int, str | None] | None:
    """``limit`` and ``cursor`` when they are plainly valid; None sends the request to the
    routed pipeline, which explains what is wrong."""
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        return None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            return None
        values[name] = value
    limit = DEFAULT_LIMIT
    if "limit" in values:
        text = values["limit"]
        if not (text.isascii() and text.isdigit() and len(text) <= 3):
            return None
        limit = int(text)
        if not 1 <= limit <= MAX_LIMIT:
            return None
    cursor = values.get("cursor")
    if cursor is not None:
        if len(cursor) > _MAX_CURSOR:
            return None
        try:
            decode_time_cursor(cursor)
        except MarkettinaError:
            return None
    return limit, cursor


def _request(scope: Scope) -> _Request | None:
    credential = account_header = None
    for name, value in scope["headers"]:
        if name in (b"authorization", b"x-api-key"):
            if credential is not None:
                return None
            credential = name, value.decode("latin-1")
        elif name == b"x-account-id":
            if account_header is not None:
                return None
            account_header = value.decode("latin-1")
    if credential is None:
        return None
    token = key = None
    name, value = credential
    if name == b"x-api-key":
        key = value.strip()
    else:
        scheme, _, value = value.partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
        elif scheme.lower() == "apikey":
            key = value.strip()
    if not (token or key) or (key and account_header is not None):
        return None  # a key acting for a sub-account takes the routed path
    arguments = _page_arguments(scope["query_string"])
    if arguments is None:
        return None
    return _Request(token, key, account_header, *arguments)


class ReadLane:
    """ASGI middleware in front of the router (inside the request context and the
    rate-limit headers). ``reads`` maps a request path to its plain read."""

    def __init__(self, app: ASGIApp, *, reads: Mapping[str, PlainRead]) -> None:
        self.app = app
        self.reads = dict(reads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = None
        if scope["type"] == "http" and scope["method"] == "GET":
            read = self.reads.get(scope["path"])
        body = None if read is None else await self._answer(scope, read)
        if body is None:
            await self.app(scope, receive, send)
            return
        assert read is not None
        scope["route"] = _LaneRoute(read.route)
        await send({
            "type": "http.response.start", "status": 200,
            "headers": [(b"content-length", str(len(body)).encode()),
                        (b"content-type", b"application/json")],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, read: PlainRead) -> bytes | None:
        request = _request(scope)
        if request is None:
            return None
        state = scope["app"].state
        try:
            if request.token is not None:
                principal = principal_from_token(request.token, state.secrets.secret_key)
                acting = principal.home_account_id
                if request.account_header is not None:
                    acting = account_from_header(request.account_header)
                context, context_params = user_context(principal, acting)
            else:
                key = request.key
                assert key is not None
                prefix = api_key_prefix(key)
                if prefix is None:
                    return None
                context, context_params = key_context(prefix, None)
        except MarkettinaError:
            return None
        # a transaction left open (a refusal, an error) is rolled back by the pool
        async with state.read_pool.connection() as connection:
            try:
                async with connection.pipeline():  # BEGIN and the look-up: one round trip
                    looked_up = await context.send(connection, **context_params)
                if request.token is not None:
                    actor = user_actor(principal, acting, await looked_up.fetchone())
                else:
                    assert key is not None
                    actor = key_actor(key, None, await looked_up.fetchall())
                actor.authorize(read.permission)
                await count(scope, state.rate_limiter, actor.account_id)
            except MarkettinaError:  # refused, or the rate limit is full: the router answers
                return None
            query, params = read.page.page_query(
                limit=request.limit, cursor=request.cursor, **read.params(actor)
            )
            key_id = actor.principal.api_key_id
            # the tenant, now that the caller is accepted, and the page (with a key's use
            # recorded) in one round trip; then COMMIT (pipelining it too measured no better)
            setting, setting_params = tenant_setting(actor.account_id)
            async with connection.pipeline():
                await setting.send(connection, **setting_params)
                if key_id is not None:
                    touch, touch_params = key_touch(key_id, actor.account_id)
                    await touch.send(connection, **touch_params)
                page = await query.send(connection, **params)
            row = await page.fetchone()
            body = read.page.render(row)
            await connection.commit()
        return body
