"""Request and response models of the staff API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from markettina.kernel.web.inputs import Email, RequestModel
from markettina.kernel.web.outputs import ResponseModel

TotpCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$", max_length=6)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class StaffLoginIn(RequestModel):
    email: Email
    password: str = Field(min_length=1, max_length=1024)
    totp_code: TotpCode = Field(description="The 6-digit code of the staff member's authenticator.")


class StaffSessionOut(ResponseModel):
    session_token: str = Field(
        description="Send as `Authorization: Bearer <token>` on /v1/staff routes; shown once."
    )
    expires_at: dt.datetime


class SuspendIn(RequestModel):
    reason: Reason = Field(description="Why, for the audit log.")


class StaffAccountOut(ResponseModel):
    id: uuid.UUID
    name: str
    slug: str
    plan_tier: str
    is_active: bool
    parent_account_id: uuid.UUID | None
    created_at: dt.datetime
    suspended_at: dt.datetime | None


class StaffAccountDetailOut(StaffAccountOut):
    member_count: int


class AuditEntryOut(ResponseModel):
    id: uuid.UUID
    admin_user_id: int
    admin_email: str
    action: str = Field(description="What was done, e.g. `account.suspend`.")
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    ip: str | None = Field(description="The staff member's address.")
    created_at: dt.datetime


class StaffMemberOut(ResponseModel):
    id: int
    email: str
    full_name: str | None
    is_superadmin: bool
    is_active: bool = Field(description="A disabled member cannot sign in; their sessions ended.")
    mfa_enrolled: bool = Field(description="Whether a TOTP secret is on record.")
    last_login_at: dt.datetime | None
    created_at: dt.datetime
    live_sessions: int = Field(description="Unexpired, unrevoked staff sessions.")
