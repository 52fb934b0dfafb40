"""``If-Match`` carrying a resource's version (its ETag is ``"<version>"``), parsed and
documented from one grammar, so the document accepts exactly what the server does."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from ..errors import FieldError, ValidationFailed

MAX_VERSION = 2**31 - 1  # version columns are integers

# 0 to 2147483647, as the ETag ("3"), weak (W/"3") or bare (3)
_NUMBER = (
    "[0-9]{1,9}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
    "|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]"
    "|214748364[0-7]"
)
IF_MATCH_PATTERN = f'^(W/)?("({_NUMBER})"|({_NUMBER}))$'
_GRAMMAR = re.compile(IF_MATCH_PATTERN)

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The version you read: the ETag `"3"` (or `W/"3"`, or `3`). A resource '
        "changed since is a 409 `version_conflict`.",
        json_schema_extra={"pattern": IF_MATCH_PATTERN},
    ),
]


def version_from_if_match(value: str, what: str) -> int:
    """The version ``value`` carries; 422 naming ``header.If-Match`` if it is none."""
    found = _GRAMMAR.match(value.strip())
    if found is None:
        raise ValidationFailed(
            f"If-Match must carry the {what}'s version",
            errors=[FieldError("header.If-Match", "not a version number", "invalid")],
        )
    return int(found.group(3) or found.group(4))


def version_read(if_match: str | None, body_version: int | None, what: str) -> int | None:
    """The version the caller read, from If-Match or ``version`` in the body (422 when both
    came and disagree); None when neither came."""
    if if_match is None:
        return body_version
    version = version_from_if_match(if_match, what)
    if body_version is not None and body_version != version:
        raise ValidationFailed(
            "If-Match and body.version disagree",
            errors=[FieldError("body.version", "differs from If-Match", "mismatch")],
        )
    return version


def version_required(if_match: str | None, body_version: int | None, what: str) -> int:
    """As ``version_read``, for a change that must say which version it changes (422
    naming ``body.version`` when neither came)."""
    version = version_read(if_match, body_version, what)
    if version is None:
        raise ValidationFailed(
            "send the version you read, as If-Match or in the body",
            errors=[FieldError("body.version", "required (or If-Match)", "missing")],
        )
    return version
