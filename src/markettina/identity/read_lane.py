"""The read lane: the list routes' plain reads (``plain_reads``) answered in front of the
router, for a person signed in or an API key; pages of lists are most of an API's traffic.

The lane takes the pipeline every request takes (``pipeline.admit``: credentials, actor,
authorization, admission), on a connection of its own lean pool, then reads the page
(one statement whose row PostgreSQL renders as the response body) and commits. What it
skips is per-request framework work: routing through every route, solving dependencies,
validating parameters, opening an ORM session.

The lane answers only requests it can answer in full. Anything else (two credentials, an
odd query string or a filter, a refusal of any kind, a full rate limit) goes, untouched,
to the router before anything is counted or written, and gets its usual answer there:
the lane never has an error format of its own. Both paths give the same status, body and
headers (tests hold them equal), and the route is still declared for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from markettina.kernel.errors import MarkettinaError
from markettina.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_time_cursor

from .pipeline import admit
from .plain_reads import LaneRoute
from .principal import Credentials, read_credentials

_MAX_CURSOR = 512  # as the routed ``Cursor`` parameter


@dataclass(frozen=True)
class _Label:
    path: str  # what the request-context middleware labels the request with


@dataclass(frozen=True)
class _Request:
    credentials: Credentials
    limit: int
    cursor: str | None


def _page_arguments(
    query_string: bytes,
    handed_over: frozenset[str] = frozenset(),
    read_cursor: Callable[[str | None], object] = decode_time_cursor,
) -> tuple[int, str | None] | None:
    """``limit`` and ``cursor`` when they are plainly valid; None sends the request to the
    routed pipeline, which explains what is wrong or applies the filter (``handed_over``)."""
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        return None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values or name in handed_over:
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
            read_cursor(cursor)  # as the route's page reads it (a uuid or an integer id)
        except MarkettinaError:
            return None
    return limit, cursor


def _request(scope: Scope, route: LaneRoute) -> _Request | None:
    """The request's one credential and its page; None sends it to the routed pipeline
    (no credential or two, a header sent twice, an odd query string)."""
    authorization = api_key = account_header = None
    for name, value in scope["headers"]:
        if name in (b"authorization", b"x-api-key"):
            if authorization is not None or api_key is not None:
                return None
            if name == b"authorization":
                authorization = value.decode("latin-1")
            else:
                api_key = value.decode("latin-1")
        elif name == b"x-account-id":
            if account_header is not None:
                return None
            account_header = value.decode("latin-1")
    if not (authorization or api_key):
        return None
    try:
        credentials = read_credentials(authorization, api_key, account_header)
    except MarkettinaError:
        return None
    arguments = _page_arguments(
        scope["query_string"], route.handed_over, route.read.page.read_cursor
    )
    if arguments is None:
        return None
    return _Request(credentials, *arguments)


class ReadLane:
    """ASGI middleware in front of the router (inside the request context and the
    rate-limit headers). ``routes`` maps a request path to the list route it answers."""

    def __init__(self, app: ASGIApp, *, routes: Mapping[str, LaneRoute]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = None
        if scope["type"] == "http" and scope["method"] == "GET":
            route = self.routes.get(scope["path"])
        body = None if route is None else await self._answer(scope, route)
        if body is None:
            await self.app(scope, receive, send)
            return
        assert route is not None
        scope["route"] = _Label(route.path)
        await send({
            "type": "http.response.start", "status": 200,
            "headers": [(b"content-length", str(len(body)).encode()),
                        (b"content-type", b"application/json")],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, route: LaneRoute) -> bytes | None:
        request = _request(scope, route)
        if request is None:
            return None
        # a transaction left open (a refusal, an error) is rolled back by the pool
        async with scope["app"].state.read_pool.connection() as connection:
            try:
                actor = await admit(
                    Request(scope), connection, request.credentials, permission=route.permission
                )
            except MarkettinaError:  # refused, or the rate limit is full: the router answers
                return None
            page = route.read.page
            query, params = page.page_query(
                limit=request.limit, cursor=request.cursor, **route.read.params(actor)
            )
            body = page.render(await query.one(connection, **params))
            await connection.commit()
        return body
