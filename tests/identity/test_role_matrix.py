"""The role matrix: for every route guarded by a permission, each role gets in exactly when
the permission table gives it that permission. Routes are read from the app, permissions
from their `require(...)` dependencies, so a new guarded route is covered automatically."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from markettina.identity.permissions import ROLE_PERMISSIONS, ROLES
from markettina.kernel.db.urls import DatabaseURLs
from tests.identity.test_cross_tenant_matrix import FACTORIES, SPEC, _body
from tests.support.api import make_app
from tests.support.identity import new_account, new_member


def _required_permission(route: APIRoute) -> str | None:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        permission = getattr(dependency.call, "required_permission", None)
        if permission is not None:
            return str(permission)
        pending.extend(dependency.dependencies)
    return None


def _api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path (included routers are kept lazily, with prefixes)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            yield from _api_routes(
                route.original_router.routes, prefix + getattr(context, "prefix", "")
            )


def _guarded_routes() -> list[tuple[str, str, str]]:
    app = make_app(DatabaseURLs.derive("postgresql://nobody@127.0.0.1:1/none"))
    routes = []
    for path, route in _api_routes(list(app.routes)):
        permission = _required_permission(route)
        if permission is None:
            continue
        for method in route.methods:
            routes.append((path, method.lower(), permission))
    return sorted(routes)


GUARDED = _guarded_routes()
CASES = [(path, method, permission, role) for path, method, permission in GUARDED for role in ROLES]


def test_the_guarded_routes_are_found() -> None:
    assert len(GUARDED) >= 10
    assert {permission for *_, permission in GUARDED} <= set().union(*ROLE_PERMISSIONS.values())


@pytest.mark.parametrize(("path", "method", "permission", "role"), CASES)
async def test_role_gets_in_exactly_when_the_table_says(
    client: httpx.AsyncClient, db: DatabaseURLs, path: str, method: str, permission: str,
    role: str,
) -> None:  # fmt: skip
    account = new_account(db)
    owner = new_member(db, account, "owner")
    caller = owner if role == "owner" else new_member(db, account, role)
    params: dict[str, Any] = {}
    if "{" in path:
        params = FACTORIES[path](db, owner).params
    body = _body(path, method) if path in SPEC["paths"] else None
    response = await client.request(
        method.upper(), path.format(**params), headers=caller.headers, json=body
    )
    problem = response.json() if response.status_code == 403 else {}
    # refused for this route's own permission (a rule deeper in may ask for another one)
    needs = f"needs the {permission} permission"
    denied = problem.get("code") == "permission_denied" and needs in problem.get("detail", "")
    allowed = permission in ROLE_PERMISSIONS[role]
    assert denied == (not allowed), (role, permission, response.status_code, response.text)
