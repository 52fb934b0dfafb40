"""Every list route of every context declares how its pages are read (a plain read the
read lane answers, or why not), and every authenticated route takes the one pipeline once."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI, Response
from fastapi.routing import APIRoute

from markettina.identity import api_keys
from markettina.identity.dependencies import CurrentActor
from markettina.identity.plain_reads import (
    PlainRead,
    api_routes,
    declaration,
    is_list_route,
    lane_routes,
    not_plain,
    plain_read,
)
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.pagination import Page
from tests.support.api import make_app


def _app() -> FastAPI:
    return make_app(DatabaseURLs.derive("postgresql://nobody@127.0.0.1:1/none"))


def _list_routes() -> list[tuple[str, APIRoute]]:
    return [
        (path, route) for path, route in api_routes(list(_app().routes)) if is_list_route(route)
    ]


def test_every_list_route_declares_how_its_pages_are_read() -> None:
    routes = _list_routes()
    assert len(routes) >= 15  # identity, billing and the kernel's lists, staff lists included
    undeclared = [path for path, route in routes if declaration(route) is None]
    assert undeclared == [], "declare @plain_read(...) or @not_plain(reason) beside the route"


def test_the_lane_answers_every_plain_read_and_labels_it_as_the_router_does() -> None:
    app = _app()
    plain = {
        path for path, route in api_routes(list(app.routes))
        if isinstance(declaration(route), PlainRead)
    }  # fmt: skip
    lane = lane_routes(app)
    assert set(lane) == plain
    assert "/v1/api-keys" in lane
    for path, route in lane.items():
        assert route.path == path and path.startswith("/v1/")


def test_a_plain_read_needs_its_route_s_permission_and_a_reason_is_never_blank() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/v1")

    @router.get("/things", response_model=Page[dict[str, str]])
    @plain_read(api_keys.LISTED_PAGE, api_keys.listed_of)
    async def things(actor: CurrentActor) -> Response:
        return Response(b"{}")

    app.include_router(router)
    with pytest.raises(ValueError, match="guarded by require"):
        lane_routes(app)
    with pytest.raises(ValueError, match="say why"):
        not_plain(" ")


def test_every_route_takes_the_pipeline_at_most_once() -> None:
    for path, route in api_routes(list(_app().routes)):
        pending, admitting = list(route.dependant.dependencies), set()
        while pending:
            dependency = pending.pop()
            if getattr(dependency.call, "admits_requests", False):
                admitting.add(dependency.call)
            pending.extend(dependency.dependencies)
        assert len(admitting) <= 1, path
