"""What identity's request pipeline adds to the OpenAPI document: the credentials it
accepts as security schemes, the problems it answers on every route it guards, and the
acting-account header typed as the account id it is.

At run time the pipeline reads ``Authorization``, ``X-API-Key`` and ``X-Account-Id`` as
plain headers; the document shows the first two as security schemes instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from markettina.kernel.web.openapi import Guard

from .admission import AddressLimited
from .dependencies import CurrentActor
from .staff_auth import StaffMember

PERSON, API_KEY, API_KEY_HEADER, STAFF = "bearerAuth", "apiKeyAuth", "apiKeyHeader", "staffSession"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    PERSON: {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "A signed-in person: `Authorization: Bearer <access token>` from "
        "`POST /v1/auth/login` (or register, refresh).",
    },
    API_KEY: {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "An API key acting for its account: `Authorization: ApiKey <key>`.",
    },
    API_KEY_HEADER: {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "The same API key as `X-API-Key: <key>` (`Authorization` wins if "
        "both are sent).",
    },
    STAFF: {
        "type": "http", "scheme": "bearer", "bearerFormat": "opaque staff session token",
        "description": "A staff member's session: `Authorization: Bearer <token>` from "
        "`POST /v1/staff/login`; only the staff routes accept it.",
    },
}  # fmt: skip

ACCOUNT_HEADER: dict[str, Any] = {
    "name": "X-Account-Id",
    "in": "header",
    "required": False,
    "description": "Act for this account instead of the credential's own: one the person "
    "is a member of, or a sub-account of theirs or of the key's account (404 "
    "`account_not_found` otherwise).",
    "schema": {"type": "string", "format": "uuid"},
}


def _dependency(alias: Any) -> Callable[..., Any]:
    """The function behind an ``Annotated[..., Depends(f)]`` alias or a ``Depends(f)``."""
    depends = get_args(alias)[1] if get_args(alias) else alias
    call: Callable[..., Any] = depends.dependency
    guarded_as: Callable[..., Any] = getattr(call, "guarded_as", call)
    return guarded_as


GUARDS: dict[Callable[..., Any], Guard] = {
    # a person or an API key: refused (401), not allowed or suspended (403), an acting
    # account it cannot reach (404), a malformed header (422), the account's rate limit
    # (429); an unsafe request's Idempotency-Key in flight (409)
    _dependency(CurrentActor): Guard(
        statuses=frozenset({401, 403, 404, 422, 429}),
        unsafe_statuses=frozenset({409}),
        security=(PERSON, API_KEY, API_KEY_HEADER),
        credential_headers=frozenset({"authorization", "x-api-key"}),
        headers={"x-account-id": ACCOUNT_HEADER},
    ),
    _dependency(StaffMember): Guard(
        statuses=frozenset({401}),
        unsafe_statuses=frozenset({409}),
        security=(STAFF,),
        credential_headers=frozenset({"authorization"}),
    ),
    _dependency(AddressLimited): Guard(statuses=frozenset({429})),
}
