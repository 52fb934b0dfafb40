"""The version a caller read, for the calendar, queue and series routes."""

from __future__ import annotations

from markettina.kernel.errors import FieldError, ValidationFailed
from markettina.kernel.web.if_match import version_from_if_match


def version_read(if_match: str | None, body_version: int | None, what: str) -> int | None:
    """The version the caller read, from If-Match or the body (both must agree); None when
    neither came (the use case refuses that once it has found the resource)."""
    header = version_from_if_match(if_match, what) if if_match is not None else None
    if header is not None and body_version is not None and header != body_version:
        raise ValidationFailed(
            "If-Match and body.version disagree",
            errors=[FieldError("body.version", "differs from If-Match", "mismatch")],
        )
    return header if header is not None else body_version
