"""The error hierarchy. Each error carries its HTTP status and a stable machine code;
the web layer renders it as RFC 9457 problem+json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .text import escaped

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://markettina.dev/problems/"


@dataclass(frozen=True)
class FieldError:
    """One invalid input: ``field`` is a dotted path such as ``body.email`` or ``query.limit``."""

    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


class MarkettinaError(Exception):
    status: ClassVar[int] = 400
    code: str = "bad_request"  # per class; an instance may narrow it
    title: ClassVar[str] = "Bad request"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        code: str | None = None,
    ):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        # extension members of the problem document (RFC 9457 §3.2), e.g. a balance
        self.extensions: dict[str, Any] = {}
        if code is not None:  # a more precise stable code than the class's
            self.code = code


class Unauthorized(MarkettinaError):
    status, code, title = 401, "unauthorized", "Authentication required"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="markettina"'}


class PaymentRequired(MarkettinaError):
    status, code, title = 402, "payment_required", "Not enough tokens"


class Forbidden(MarkettinaError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(MarkettinaError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(MarkettinaError):
    status, code, title = 409, "conflict", "Conflict"


class ValidationFailed(MarkettinaError):
    status, code, title = 422, "validation_failed", "Invalid input"


class RateLimited(MarkettinaError):
    status, code, title = 429, "rate_limited", "Too many requests"


class ServiceUnavailable(MarkettinaError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


def problem(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance is not None:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    body.update(extra)
    return {key: _printable(value) for key, value in body.items()}


def _printable(value: Any) -> Any:
    """Text echoed from the request (a path, a field name) with NUL and lone surrogates
    escaped: the problem stays valid UTF-8 JSON that a client can store."""
    if isinstance(value, str):
        return escaped(value)
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_printable(item) for item in value]
    return value
