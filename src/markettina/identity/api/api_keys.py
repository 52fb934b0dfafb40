"""HTTP routes of the identity context: API keys, and permission grants to members."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.inputs import PositiveInt32Param

from .. import api_keys, grants
from ..dependencies import Connection, Transaction, require, require_on_connection
from ..plain_reads import ROWS_IN_PYTHON, not_plain, plain_read
from ..principal import Actor
from ..schemas.keys import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, GrantCreate, GrantOut

router = APIRouter()

KeysRead = Annotated[Actor, require("api_keys:read")]
KeysListed = Annotated[Actor, require_on_connection("api_keys:read")]  # Core statements only
KeysManage = Annotated[Actor, require("api_keys:manage")]
PermissionsManage = Annotated[Actor, require("permissions:manage")]


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    tags=["api keys"],
    summary="Create an API key (the full key is in this response only)",
)
async def create_api_key(
    body: ApiKeyCreate, actor: KeysManage, session: Transaction
) -> ApiKeyCreated:
    issued = await api_keys.create_api_key(
        session=session, actor=actor, name=body.name, scopes=body.scopes, expires_at=body.expires_at
    )
    key = issued.api_key
    return ApiKeyCreated(
        id=key.id, name=key.name, prefix=key.prefix, scopes=key.scopes,
        expires_at=key.expires_at, created_at=key.created_at, key=issued.key,
    )  # fmt: skip


@router.get("/api-keys", response_model=Page[ApiKeyOut], tags=["api keys"])
@plain_read(api_keys.LISTED_PAGE, api_keys.listed_of)
async def list_api_keys(
    actor: KeysListed, connection: Connection, limit: Limit = 50, cursor: Cursor = None
) -> Response:
    body = await api_keys.list_api_keys(where=connection, actor=actor, limit=limit, cursor=cursor)
    return Response(body, media_type="application/json")  # the page as PostgreSQL rendered it


@router.delete(
    "/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["api keys"],
    summary="Revoke an API key (idempotent)",
)  # fmt: skip
async def revoke_api_key(key_id: uuid.UUID, actor: KeysManage, session: Transaction) -> None:
    await api_keys.revoke_api_key(session=session, actor=actor, key_id=key_id)


@router.post(
    "/account/permissions",
    status_code=status.HTTP_201_CREATED,
    response_model=GrantOut,
    tags=["permissions"],
    summary="Grant a member one permission on a resource type or one resource",
)
async def grant_permission(
    body: GrantCreate, actor: PermissionsManage, session: Transaction
) -> GrantOut:
    grant = await grants.grant_permission(
        session=session,
        actor=actor,
        user_id=body.user_id,
        permission=body.permission,
        resource_type=body.resource_type,
        resource_id=body.resource_id,
        expires_at=body.expires_at,
    )
    return GrantOut.model_validate(grant)


@router.get("/account/permissions", response_model=Page[GrantOut], tags=["permissions"])
@not_plain(ROWS_IN_PYTHON)
async def list_grants(
    actor: PermissionsManage,
    session: Transaction,
    user_id: Annotated[
        PositiveInt32Param | None, Query(description="Only this member's grants.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[GrantOut]:
    page = await grants.list_grants(
        session=session, actor=actor, user_id=user_id, limit=limit, cursor=cursor
    )
    return Page[GrantOut](
        items=[GrantOut.model_validate(grant) for grant in page.items], next_cursor=page.next_cursor
    )


@router.delete(
    "/account/permissions/{grant_id}", status_code=status.HTTP_204_NO_CONTENT,
    tags=["permissions"], summary="Withdraw a grant",
)  # fmt: skip
async def revoke_grant(grant_id: uuid.UUID, actor: PermissionsManage, session: Transaction) -> None:
    await grants.revoke_grant(session=session, actor=actor, grant_id=grant_id)
