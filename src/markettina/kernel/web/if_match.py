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
