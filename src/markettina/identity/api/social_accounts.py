"""HTTP routes of the identity context: social accounts (connect through OAuth 2.0, list,
primary per platform, disconnect)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from markettina.kernel.pagination import Cursor, Limit, Page

from .. import social_accounts
from ..dependencies import Transaction, require
from ..plain_reads import ROWS_IN_PYTHON, not_plain
from ..principal import Actor
from ..schemas.social import (
    ConnectCallback,
    ConnectStart,
    ConnectStarted,
    PlatformName,
    SocialAccountOut,
)

router = APIRouter(prefix="/social-accounts", tags=["social accounts"])

SocialRead = Annotated[Actor, require("social:read")]
SocialWrite = Annotated[Actor, require("social:write")]


@router.post("/connect", response_model=ConnectStarted,
             summary="Start connecting a platform account: where to send the person")  # fmt: skip
async def start_connect(body: ConnectStart, actor: SocialWrite, request: Request) -> ConnectStarted:
    secrets = request.app.state.secrets
    url = social_accounts.start_connect(
        actor=actor, platform=body.platform, redirect_uri=body.redirect_uri,
        secret_key=secrets.secret_key, box=secrets.box,
    )  # fmt: skip
    return ConnectStarted(authorization_url=url)


@router.post("/callback", status_code=status.HTTP_201_CREATED, response_model=SocialAccountOut,
             summary="Finish connecting with the `state` and `code` sent back")  # fmt: skip
async def complete_connect(
    body: ConnectCallback, actor: SocialWrite, session: Transaction, request: Request
) -> SocialAccountOut:
    secrets = request.app.state.secrets
    connected = await social_accounts.complete_connect(
        session=session, actor=actor, state=body.state, code=body.code,
        secret_key=secrets.secret_key, box=secrets.box,
    )  # fmt: skip
    return SocialAccountOut.of(connected)


@router.get("", response_model=Page[SocialAccountOut], summary="Connected accounts, newest first")
@not_plain(ROWS_IN_PYTHON)
async def list_social_accounts(
    actor: SocialRead,
    session: Transaction,
    platform: Annotated[PlatformName | None, Query(description="Only this platform's.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[SocialAccountOut]:
    page = await social_accounts.list_social_accounts(
        session=session, actor=actor, platform=platform, limit=limit, cursor=cursor
    )
    return Page[SocialAccountOut](
        items=[SocialAccountOut.of(item) for item in page.items], next_cursor=page.next_cursor
    )


@router.post("/{social_account_id}/primary", response_model=SocialAccountOut,
             summary="Make this account its platform's primary")  # fmt: skip
async def set_primary(
    social_account_id: uuid.UUID, actor: SocialWrite, session: Transaction
) -> SocialAccountOut:
    connected = await social_accounts.set_primary(
        session=session, actor=actor, social_account_id=social_account_id
    )
    return SocialAccountOut.of(connected)


@router.delete("/{social_account_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Disconnect (its tokens are wiped at once)")  # fmt: skip
async def disconnect(
    social_account_id: uuid.UUID, actor: SocialWrite, session: Transaction
) -> None:
    await social_accounts.disconnect(
        session=session, actor=actor, social_account_id=social_account_id
    )
