"""Every failure leaves the API as application/problem+json, 404/405/422 and 500 included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from ..db.integrity import translate_database_error
from ..errors import PROBLEM_CONTENT_TYPE, FieldError, MarkettinaError, problem

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_failed", "Invalid input"),
    429: ("rate_limited", "Too many requests"),
    503: ("service_unavailable", "Service unavailable"),
}


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body = problem(
        status=status,
        code=code,
        title=title,
        detail=detail,
        instance=request.url.path,
        errors=errors,
        request_id=getattr(request.state, "request_id", None),
        **(extensions or {}),
    )
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


def field_errors(raw: Sequence[Any]) -> list[FieldError]:
    """pydantic's error list as dotted field paths (``body.email``, ``query.limit``)."""
    result = []
    for error in raw:
        location = ".".join(str(part) for part in error.get("loc", ()))
        result.append(
            FieldError(
                field=location or "body",
                message=error.get("msg", "invalid"),
                code=error.get("type", "invalid"),
            )
        )
    return result


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MarkettinaError)
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=dict(exc.headers) or None,
        extensions=exc.extensions,
    )


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc.errors())
    fields = ", ".join(e.field for e in errors)
    return problem_response(
        request,
        status=422,
        code="validation_failed",
        title="Invalid input",
        detail=f"invalid input: {fields}" if fields else "invalid input",
        errors=errors,
    )


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    elif exc.status_code == 405:
        if detail == "Method Not Allowed":
            detail = f"{request.method} is not allowed on {request.url.path}"
        # the router names the methods of the first route matching the path only
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return problem_response(
        request,
        status=exc.status_code,
        code=code,
        title=title,
        detail=detail,
        headers=headers or None,
    )


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at ``path`` (a 405's ``Allow``), in a stable order."""
    templates = getattr(app.state, "path_templates", None)
    if templates is None:
        templates = [
            (compile_path(route.path)[0], frozenset(route.methods or ()))
            for route in iter_route_contexts(app.routes)
            if route.path is not None
        ]
        app.state.path_templates = templates
    methods: set[str] = set()
    for pattern, served in templates:
        if pattern.match(path):
            methods |= served
    return sorted(methods)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    translated = translate_database_error(exc)
    if translated is None:
        raise exc  # not the caller's fault: a 500 from the request middleware
    return await _on_domain_error(request, translated)


def install_problem_handlers(app: FastAPI) -> None:
    """Errors with a status of their own. Anything else is turned into a 500 problem by
    RequestContextMiddleware, inside the request id and access log."""
    app.add_exception_handler(MarkettinaError, _on_domain_error)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
