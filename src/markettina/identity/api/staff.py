"""HTTP routes of the identity context: staff sign-in, and staff work on accounts.

Only a staff session token (from ``POST /v1/staff/login``) opens these routes; every call
is written to the staff audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from markettina.kernel.errors import FieldError, ValidationFailed
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.inputs import PositiveInt32Param, Timestamp
from markettina.kernel.web.openapi import problems

from .. import staff
from ..admission import AddressLimited
from ..audit_log import AuditFilter, search_audit_log
from ..dependencies import Transaction
from ..lockout import LockoutPolicy
from ..plain_reads import STAFF_ONLY, not_plain
from ..schemas.staff import (
    AuditEntryOut,
    StaffAccountDetailOut,
    StaffAccountOut,
    StaffLoginIn,
    StaffMemberOut,
    StaffSessionOut,
    SuspendIn,
)
from ..staff_auth import RequestClient, StaffMember
from ..staff_members import list_staff_members, set_staff_member_active

router = APIRouter(prefix="/staff", tags=["staff"])

SearchQuery = Annotated[
    str | None,
    Query(max_length=200, description="An account id, or the start of a name or slug."),
]


@router.post(
    "/login", response_model=StaffSessionOut, summary="Open a staff session",
    dependencies=[AddressLimited], responses=problems(401),
)  # fmt: skip
async def login(
    body: StaffLoginIn, session: Transaction, client: RequestClient, request: Request
) -> StaffSessionOut:
    """Password and TOTP code together; any wrong factor (or a code already used) gets the
    same 401 `invalid_credentials`. The session lasts 8 hours."""
    signed_in = await staff.login(
        session,
        email=body.email,
        password=body.password,
        totp=body.totp_code,
        box=request.app.state.secrets.box,
        client=client,
        lockout=LockoutPolicy.from_settings(request.app.state.settings),
    )
    return StaffSessionOut(session_token=signed_in.session_token, expires_at=signed_in.expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this staff session")
async def logout(member: StaffMember, session: Transaction) -> None:
    await staff.logout(session, staff=member)


@router.get("/accounts", response_model=Page[StaffAccountOut], summary="Look up accounts")
@not_plain(STAFF_ONLY)
async def search_accounts(
    member: StaffMember,
    session: Transaction,
    query: SearchQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[StaffAccountOut]:
    page = await staff.search_accounts(
        session, staff=member, query=query, limit=limit, cursor=cursor
    )
    return Page[StaffAccountOut](
        items=[StaffAccountOut.model_validate(a) for a in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/accounts/{account_id}",
    response_model=StaffAccountDetailOut,
    summary="One account, with its member count",
)
async def read_account(
    account_id: uuid.UUID, member: StaffMember, session: Transaction
) -> StaffAccountDetailOut:
    view = await staff.get_account(session, staff=member, account_id=account_id)
    return StaffAccountDetailOut.model_validate(
        {**StaffAccountOut.model_validate(view.account).model_dump(),
         "member_count": view.member_count}
    )  # fmt: skip


@router.post(
    "/accounts/{account_id}/suspend",
    response_model=StaffAccountOut,
    summary="Suspend an account: its tokens and API keys stop working at once",
)
async def suspend_account(
    account_id: uuid.UUID, body: SuspendIn, member: StaffMember, session: Transaction
) -> StaffAccountOut:
    account = await staff.suspend_account(
        session, staff=member, account_id=account_id, reason=body.reason
    )
    return StaffAccountOut.model_validate(account)


@router.post(
    "/accounts/{account_id}/unsuspend",
    response_model=StaffAccountOut,
    summary="Lift an account's suspension",
)
async def unsuspend_account(
    account_id: uuid.UUID, member: StaffMember, session: Transaction
) -> StaffAccountOut:
    account = await staff.unsuspend_account(session, staff=member, account_id=account_id)
    return StaffAccountOut.model_validate(account)


ActionPattern = Annotated[
    str | None,
    Query(
        max_length=100,
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?$",
        description="An action (`account.suspend`), or every action under a prefix (`account.*`).",
    ),
]
Since = Annotated[
    Timestamp | None, Query(description="From this instant on (RFC 3339, with offset).")
]
Until = Annotated[
    Timestamp | None, Query(description="Before this instant (RFC 3339, with offset).")
]


@router.get(
    "/audit-logs",
    response_model=Page[AuditEntryOut],
    summary="Read the staff audit log, newest first (superadmins)",
    responses=problems(403),
)
@not_plain(STAFF_ONLY)
async def read_audit_log(
    member: StaffMember,
    session: Transaction,
    admin_user_id: Annotated[PositiveInt32Param | None, Query()] = None,
    action: ActionPattern = None,
    target_type: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    target_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AuditEntryOut]:
    """Every staff action (sign-ins, refused ones too, and each read of this log), with
    who, what, which target and from which address. 403 `superadmin_required` for other
    staff members (their attempt is logged)."""
    if since is not None and until is not None and until <= since:
        raise ValidationFailed(
            "the window is empty",
            errors=[FieldError("query.until", "must be after since", "window_empty")],
        )
    where = AuditFilter(
        admin_user_id=admin_user_id, action=action, target_type=target_type,
        target_id=target_id, since=since, until=until,
    )  # fmt: skip
    page = await search_audit_log(session, staff=member, where=where, limit=limit, cursor=cursor)
    return Page[AuditEntryOut](
        items=[AuditEntryOut(**asdict(entry)) for entry in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/members",
    response_model=Page[StaffMemberOut],
    summary="The staff members (superadmins)",
    responses=problems(403),
)
@not_plain(STAFF_ONLY)
async def read_staff_members(
    member: StaffMember, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Page[StaffMemberOut]:
    """The staff members, the first created first."""
    page = await list_staff_members(session, staff=member, limit=limit, cursor=cursor)
    return Page[StaffMemberOut](
        items=[StaffMemberOut(**asdict(view)) for view in page.items],
        next_cursor=page.next_cursor,
    )


StaffMemberId = Annotated[PositiveInt32Param, Path()]


@router.post(
    "/members/{member_id}/disable",
    response_model=StaffMemberOut,
    summary="Disable a staff member: their sessions end at once (superadmins)",
    responses=problems(403),
)
async def disable_staff_member(
    member_id: StaffMemberId, member: StaffMember, session: Transaction
) -> StaffMemberOut:
    """Idempotent. 409 `cannot_disable_yourself` for your own id."""
    view = await set_staff_member_active(session, staff=member, member_id=member_id, active=False)
    return StaffMemberOut(**asdict(view))


@router.post(
    "/members/{member_id}/enable",
    response_model=StaffMemberOut,
    summary="Let a disabled staff member sign in again (superadmins)",
    responses=problems(403),
)
async def enable_staff_member(
    member_id: StaffMemberId, member: StaffMember, session: Transaction
) -> StaffMemberOut:
    """Idempotent. The sessions ended by disabling stay ended: they sign in anew."""
    view = await set_staff_member_active(session, staff=member, member_id=member_id, active=True)
    return StaffMemberOut(**asdict(view))
