"""How each list route's pages are read, declared beside the route: as a *plain read*
(one statement whose JSON PostgreSQL renders; the read lane answers it in front of the
router, through the same pipeline), or why not. A test fails on a list route that says
neither, so a new list is a plain read unless someone wrote down why it cannot be.

    @router.get("/api-keys", response_model=Page[ApiKeyOut])
    @plain_read(api_keys.LISTED_PAGE, api_keys.listed_of)
    async def list_api_keys(actor: KeysRead, ...) -> Response: ...

The lane takes the route's permission from its ``require`` dependency and leaves to the
router every request with a query parameter other than ``limit`` and ``cursor`` (a filter).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRoute

from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.pagination import Page

from .principal import Actor

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_PAGE_PARAMETERS = frozenset({"limit", "cursor"})

# the reasons most lists give
STAFF_ONLY = "staff sign-in (Staff), which the read lane's pipeline does not take"
ROWS_IN_PYTHON = (
    "not yet one statement PostgreSQL renders: the page is ORM rows the response model converts"
)
OLDEST_FIRST = "oldest first, while a plain read's page is newest first (NewestFirst)"


@dataclass(frozen=True)
class PlainRead:
    """A list's page statement and its parameters for the actor (the acting account...)."""

    page: NewestFirst
    params: Callable[[Actor], dict[str, Any]]


def plain_read(
    page: NewestFirst, params: Callable[[Actor], dict[str, Any]]
) -> Callable[[Endpoint], Endpoint]:
    """Declare a list route's pages a plain read (the route's endpoint renders them with
    the same ``page``, so both paths give the same body)."""

    def declare(endpoint: Endpoint) -> Endpoint:
        endpoint.plain_read = PlainRead(page, params)  # type: ignore[attr-defined]
        return endpoint

    return declare


def of_acting_account(actor: Actor) -> dict[str, Any]:
    """The parameters of a page of the acting account's rows (``account_id``)."""
    return {"account_id": actor.account_id}


def not_plain(reason: str) -> Callable[[Endpoint], Endpoint]:
    """Declare why a list route's pages are not a plain read."""
    if not reason.strip():
        raise ValueError("say why the list is not a plain read")

    def declare(endpoint: Endpoint) -> Endpoint:
        endpoint.not_plain = reason  # type: ignore[attr-defined]
        return endpoint

    return declare


def declaration(route: APIRoute) -> PlainRead | str | None:
    """The route's plain read, or the reason it has none, or None when it says neither."""
    read = getattr(route.endpoint, "plain_read", None)
    if isinstance(read, PlainRead):
        return read
    reason = getattr(route.endpoint, "not_plain", None)
    return reason if isinstance(reason, str) else None


def is_list_route(route: APIRoute) -> bool:
    """A GET route answering with a ``Page`` of a list."""
    model = route.response_model
    return "GET" in (route.methods or ()) and isinstance(model, type) and issubclass(model, Page)


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path template (FastAPI keeps included routers nested,
    each with its prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            yield from api_routes(
                route.original_router.routes, prefix + getattr(context, "prefix", "")
            )


@dataclass(frozen=True)
class LaneRoute:
    """A list route the read lane answers: ``path`` is its full template (no path
    parameters: the request's path itself), which labels its metrics and log lines as
    the router labels them."""

    path: str
    permission: str
    read: PlainRead
    handed_over: frozenset[str]  # its query parameters the lane leaves to the router


def required_permission(route: APIRoute) -> str | None:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        permission = getattr(dependency.call, "required_permission", None)
        if isinstance(permission, str):
            return permission
        pending.extend(dependency.dependencies)
    return None


def _query_parameters(route: APIRoute) -> frozenset[str]:
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(param.alias for param in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


def lane_routes(app: FastAPI) -> dict[str, LaneRoute]:
    """The app's plain reads by request path. A plain read must be guarded by ``require``
    and have no path parameters: anything else is a declaration error, raised at start."""
    routes = {}
    for path, route in api_routes(list(app.routes)):
        read = declaration(route)
        if not isinstance(read, PlainRead):
            continue
        permission = required_permission(route)
        if permission is None or "{" in path or not is_list_route(route):
            raise ValueError(
                f"{path}: a plain read is a list route without path parameters, guarded by "
                "require(permission)"
            )
        routes[path] = LaneRoute(
            path, permission, read, _query_parameters(route) - _PAGE_PARAMETERS
        )
    return routes
