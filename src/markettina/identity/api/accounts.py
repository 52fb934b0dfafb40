"""HTTP routes of the identity context: the account, its sub-accounts, members and invitations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import IfMatch, version_required
from markettina.kernel.web.inputs import PositiveInt32Param

from .. import accounts, members
from ..dependencies import CurrentActor, Transaction, require
from ..plain_reads import OLDEST_FIRST, not_plain
from ..principal import Actor
from ..schemas.accounts import (
    AccountOut,
    AccountUpdate,
    InvitationAccept,
    InvitationCreate,
    InvitationOut,
    MemberOut,
    MemberRoleUpdate,
    MembershipOut,
    SubAccountCreate,
)

router = APIRouter()

AccountRead = Annotated[Actor, require("account:read")]
AccountUpdater = Annotated[Actor, require("account:update")]
SubAccountsRead = Annotated[Actor, require("sub_accounts:read")]
SubAccountsCreate = Annotated[Actor, require("sub_accounts:create")]
MembersRead = Annotated[Actor, require("members:read")]
MembersManage = Annotated[Actor, require("members:manage")]
MembersInvite = Annotated[Actor, require("members:invite")]
UserId = Annotated[PositiveInt32Param, Path()]


# --- the account -----------------------------------------------------------------------------


@router.get(
    "/account",
    response_model=AccountOut,
    tags=["accounts"],
    summary="The acting account (its version is also the ETag)",
)
async def read_account(actor: AccountRead, session: Transaction, response: Response) -> AccountOut:
    account = await accounts.get_account(session, actor=actor)
    response.headers["ETag"] = f'"{account.version}"'
    return AccountOut.model_validate(account)


@router.patch(
    "/account",
    response_model=AccountOut,
    tags=["accounts"],
    summary="Rename the account or replace its settings (If-Match or body version)",
)
async def update_account(
    body: AccountUpdate,
    actor: AccountUpdater,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> AccountOut:
    account = await accounts.update_account(
        session,
        actor=actor,
        expected_version=version_required(if_match, body.version, "account"),
        name=body.name,
        settings=body.settings,
    )
    response.headers["ETag"] = f'"{account.version}"'
    return AccountOut.model_validate(account)


# --- sub-accounts ----------------------------------------------------------------------------


@router.post(
    "/account/sub-accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountOut,
    tags=["accounts"],
    summary="Create a client account under the acting account",
)
async def create_sub_account(
    body: SubAccountCreate, actor: SubAccountsCreate, session: Transaction
) -> AccountOut:
    account = await accounts.create_sub_account(
        session, actor=actor, name=body.name, slug=body.slug
    )
    return AccountOut.model_validate(account)


@router.get("/account/sub-accounts", response_model=Page[AccountOut], tags=["accounts"])
@not_plain(OLDEST_FIRST)
async def list_sub_accounts(
    actor: SubAccountsRead, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Page[AccountOut]:
    page = await accounts.list_sub_accounts(session, actor=actor, limit=limit, cursor=cursor)
    return Page[AccountOut](
        items=[AccountOut.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )


# --- members ---------------------------------------------------------------------------------


@router.get("/account/members", response_model=Page[MemberOut], tags=["members"])
@not_plain(OLDEST_FIRST)
async def list_members(
    actor: MembersRead, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Page[MemberOut]:
    page = await members.list_members(session, actor=actor, limit=limit, cursor=cursor)
    return Page[MemberOut](
        items=[MemberOut.model_validate(m) for m in page.items], next_cursor=page.next_cursor
    )


@router.patch(
    "/account/members/{user_id}",
    response_model=MemberOut,
    tags=["members"],
    summary="Change a member's role (the owner role: owners only)",
)
async def change_member_role(
    user_id: UserId, body: MemberRoleUpdate, actor: MembersManage, session: Transaction
) -> MemberOut:
    member = await members.change_role(session, actor=actor, user_id=user_id, role=body.role)
    return MemberOut.model_validate(member)


@router.delete(
    "/account/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["members"],
    summary="Remove a member (members:manage), or leave the account yourself",
)
async def remove_member(user_id: UserId, actor: CurrentActor, session: Transaction) -> None:
    await members.remove_member(session, actor=actor, user_id=user_id)


# --- invitations -----------------------------------------------------------------------------


@router.post(
    "/account/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationOut,
    tags=["members"],
    summary="Invite someone by e-mail (the link goes to them only)",
)
async def invite(
    body: InvitationCreate, actor: MembersInvite, session: Transaction, request: Request
) -> InvitationOut:
    base_url = request.app.state.settings.public_base_url.rstrip("/")
    issued = await members.invite(
        session,
        actor=actor,
        email=body.email,
        role=body.role,
        accept_url=f"{base_url}/accept-invitation",
        box=request.app.state.secrets.box,
    )
    return InvitationOut.model_validate(issued.invitation)


@router.get(
    "/account/invitations",
    response_model=Page[InvitationOut],
    tags=["members"],
    summary="Pending invitations",
)
@not_plain(OLDEST_FIRST)
async def list_invitations(
    actor: MembersRead, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Page[InvitationOut]:
    page = await members.list_invitations(session, actor=actor, limit=limit, cursor=cursor)
    return Page[InvitationOut](
        items=[InvitationOut.model_validate(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.delete(
    "/account/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["members"],
    summary="Revoke a pending invitation",
)
async def revoke_invitation(
    invitation_id: uuid.UUID, actor: MembersInvite, session: Transaction
) -> None:
    await members.revoke_invitation(session, actor=actor, invitation_id=invitation_id)


@router.post(
    "/invitations/accept",
    response_model=MembershipOut,
    tags=["members"],
    summary="Join the inviting account (signed in with the invited e-mail)",
)
async def accept_invitation(
    body: InvitationAccept, actor: CurrentActor, session: Transaction
) -> MembershipOut:
    membership = await members.accept_invitation(session, actor=actor, token=body.token)
    return MembershipOut.model_validate(membership)
