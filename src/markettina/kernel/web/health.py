"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from ..db.engine import Database
from ..errors import PROBLEM_CONTENT_TYPE, problem
from ..events.relay import FAILING_AFTER_ATTEMPTS

# the oldest due event waiting longer than this means no relay is running
RELAY_STALLED_AFTER_SECONDS = 300

READINESS_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, Any]
    warnings: dict[str, Any] | None = None


async def _events_outside_partitions(database: Database) -> int | None:
    """Events that fell into the DEFAULT partition (a date no monthly partition covers)."""
    async with database.engine.connect() as conn:
        exists = await conn.execute(
            text("SELECT to_regprocedure('domain_events_outside_partitions()') IS NOT NULL")
        )
        if not exists.scalar_one():
            return None
        return int(
            (await conn.execute(text("SELECT domain_events_outside_partitions()"))).scalar_one()
        )


async def _event_backlog(database: Database) -> dict[str, Any] | None:
    """The relay's backlog (domain_event_backlog, migration 0008), None before that."""
    async with database.engine.connect() as conn:
        exists = await conn.execute(
            text("SELECT to_regprocedure('domain_event_backlog(integer)') IS NOT NULL")
        )
        if not exists.scalar_one():
            return None
        row = await conn.execute(
            text("SELECT * FROM domain_event_backlog(:failing_after)"),
            {"failing_after": FAILING_AFTER_ATTEMPTS},
        )
        return dict(row.mappings().one())


def _relay_warnings(backlog: dict[str, Any] | None) -> dict[str, Any]:
    warnings: dict[str, Any] = {}
    if backlog is None:
        return warnings
    if backlog["failing"]:
        warnings["events_failing"] = {
            "count": backlog["failing"],
            "detail": f"domain events whose handlers failed {FAILING_AFTER_ATTEMPTS} times or "
            "more; the relay keeps retrying them (at most hourly); their last_error says why",
        }
    oldest = backlog["oldest_due_seconds"]
    if oldest is not None and oldest > RELAY_STALLED_AFTER_SECONDS:
        warnings["events_waiting"] = {
            "count": backlog["due"],
            "oldest_seconds": round(oldest),
            "detail": "due domain events have waited this long for the relay: is a worker running?",
        }
    return warnings


async def _current_revisions(database: Database) -> tuple[str, ...]:
    async with database.engine.connect() as conn:
        exists = (
            await conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
        ).scalar_one()
        if not exists:
            return ()
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return tuple(sorted(r[0] for r in rows))


async def check_readiness(database: Database, expected_heads: tuple[str, ...]) -> Readiness:
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            current = await _current_revisions(database)
    except DBAPIError as exc:
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            checks["database"] = {"ok": False, "error": type(exc.orig).__name__}
            checks["migrations"] = {"ok": False, "error": "database unreachable"}
        else:  # reachable, but the revision cannot be read (e.g. never migrated)
            checks["database"] = {"ok": True}
            checks["migrations"] = {"ok": False, "error": type(exc.orig).__name__}
        return Readiness(ready=False, checks=checks)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
        checks["migrations"] = {"ok": False, "error": "database unreachable"}
        return Readiness(ready=False, checks=checks)
    checks["database"] = {"ok": True}
    at_head = current == tuple(sorted(expected_heads))
    checks["migrations"] = {"ok": at_head, "current": list(current), "head": list(expected_heads)}
    # worth an operator's look, not a reason to take the instance out of rotation
    warnings: dict[str, Any] = {}
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            outside = await _events_outside_partitions(database)
    except (SQLAlchemyError, OSError, TimeoutError):
        outside = None
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            warnings.update(_relay_warnings(await _event_backlog(database)))
    except (SQLAlchemyError, OSError, TimeoutError):
        pass
    if outside:
        warnings["events_outside_partitions"] = {
            "count": outside,
            "detail": "domain events dated outside every monthly partition sit in "
            "domain_events_default; the daily partition job moves them once their month exists",
        }
    return Readiness(ready=at_head, checks=checks, warnings=warnings or None)


def health_router(*, registry: CollectorRegistry) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="The database is reachable and its schema at the code's head revision",
        responses={503: {"description": "Not ready", "content": {PROBLEM_CONTENT_TYPE: {}}}},
    )
    async def readyz(request: Request) -> JSONResponse:
        result = await check_readiness(request.app.state.database, request.app.state.expected_heads)
        if result.ready:
            body: dict[str, Any] = {"status": "ready", "checks": result.checks}
            if result.warnings:
                body["warnings"] = result.warnings
            return JSONResponse(body)
        failing = ", ".join(name for name, check in result.checks.items() if not check["ok"])
        body = problem(
            status=503,
            code="not_ready",
            title="Service not ready",
            detail=f"failing checks: {failing}",
            instance="/readyz",
            checks=result.checks,
        )
        return JSONResponse(body, status_code=503, media_type=PROBLEM_CONTENT_TYPE)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
