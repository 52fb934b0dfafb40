"""Per-request plumbing: a request id (taken from X-Request-ID when sane), bound to every
log line, echoed in the response; one access log line and the Prometheus figures."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import PROBLEM_CONTENT_TYPE, problem
from ..logs import get_logger

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

log = get_logger("markettina.access")


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "markettina_http_requests_total",
            "HTTP requests served",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "markettina_http_request_duration_seconds",
            "Time to serve an HTTP request",
            ("method", "route"),
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


def _internal_error(scope: Scope, request_id: str) -> JSONResponse:
    body = problem(
        status=500,
        code="internal_error",
        title="Internal server error",
        detail="the server failed to handle the request; it has been logged",
        instance=scope["path"],
        request_id=request_id,
    )
    return JSONResponse(body, status_code=500, media_type=PROBLEM_CONTENT_TYPE)


def route_template(scope: Scope) -> str:
    """The matched route's full path template (``/v1/api-keys/{key_id}``), the label of
    its metrics and access log lines. FastAPI keeps included routers nested, so a route's
    own ``path`` lacks its routers' prefixes; the full template is that of the route's
    effective context. A route answered outside the router puts its template in
    ``scope["route"]``."""
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    if isinstance(template, str):
        return template
    return str(getattr(scope.get("route"), "path", "unmatched"))


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started_response = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled_error", path=scope["path"])
                if started_response:
                    raise
                await _internal_error(scope, request_id)(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = route_template(scope)
                method = scope["method"]
                self.metrics.requests.labels(method, route, str(status)).inc()
                self.metrics.latency.labels(method, route).observe(elapsed)
                log.info(
                    "request",
                    method=method,
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
