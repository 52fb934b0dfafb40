"""A NUL character in a query string, a path or a header value is refused with a 422 naming
the parameter (``query.q``, ``path.key_id``, ``header.User-Agent``), before any route or
the read lane sees it: PostgreSQL cannot store one, and no route should have to remember.
Bodies are held to the same rule by ``inputs.RequestModel``."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl

from fastapi.routing import iter_route_contexts
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import PROBLEM_CONTENT_TYPE, FieldError, problem
from ..text import NUL_CODE, NUL_MESSAGE


def _header_name(raw: bytes) -> str:
    """``x-account-id`` as the API's documents spell it: ``X-Account-Id``."""
    return "-".join(part.capitalize() for part in raw.decode("latin-1").split("-"))


def _query_fields(scope: Scope) -> Iterator[str]:
    raw: bytes = scope.get("query_string", b"")
    if b"\x00" not in raw and b"%00" not in raw:
        return
    # decoded as Starlette decodes it for the routes
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            yield f"query.{name}"


def _path_fields(scope: Scope) -> Iterator[str]:
    """The parameters of the first route whose template matches (only ever for a bad path)."""
    path: str = scope["path"]
    if "\x00" not in path:
        return
    router = getattr(scope.get("app"), "router", None)
    for route in iter_route_contexts(getattr(router, "routes", [])):
        if route.path is None:
            continue
        pattern, _, _ = compile_path(route.path)
        found = pattern.match(path)
        named = [f"path.{name}" for name, value in (found.groupdict() if found else {}).items()
                 if "\x00" in value]  # fmt: skip
        if named:
            yield from named
            return
    yield "path"


def _header_fields(scope: Scope) -> Iterator[str]:
    for name, value in scope["headers"]:
        if b"\x00" in value:
            yield f"header.{_header_name(name)}"


class NulGuard:
    """ASGI middleware: a request with a NUL in a parameter gets the 422 problem at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fields = [*_query_fields(scope), *_path_fields(scope), *_header_fields(scope)]
        if not fields:
            await self.app(scope, receive, send)
            return
        body = problem(
            status=422,
            code="validation_failed",
            title="Invalid input",
            detail=f"invalid input: {', '.join(fields)}",
            instance=scope["path"],
            errors=[FieldError(field, NUL_MESSAGE, NUL_CODE) for field in fields],
            request_id=scope.get("state", {}).get("request_id"),
        )
        response = JSONResponse(body, status_code=422, media_type=PROBLEM_CONTENT_TYPE)
        await response(scope, receive, send)
