"""Request and response models of sign-in: registration, sessions, one-time links, profile."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from markettina.kernel.web.inputs import Email, Omittable, RequestModel

PASSWORD_MIN = 10
PASSWORD_MAX = 128

# a new password; one being checked may be longer (set before these rules, or elsewhere)
NewPassword = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
GivenPassword = Annotated[str, Field(min_length=1, max_length=1024)]
# looked up, not stored: an address that no longer validates can still sign in or reset
GivenEmail = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LinkToken = Annotated[str, Field(min_length=16, max_length=256)]
RefreshTokenValue = Annotated[str, Field(min_length=16, max_length=256)]
ReferralCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9]{4,32}$", max_length=32)
]
# RFC 3339 in UTC, whatever the database session's time zone
UtcTime = Annotated[dt.datetime, AfterValidator(lambda value: value.astimezone(dt.UTC))]


class RegisterIn(RequestModel):
    email: Email
    password: NewPassword
    full_name: FullName | None = None
    referral_code: ReferralCode | None = Field(
        default=None, description="Another account's referral code: both get a bonus on the"
        " first purchase within 30 days.",
    )  # fmt: skip


class LoginIn(RequestModel):
    email: GivenEmail
    password: GivenPassword


class RefreshIn(RequestModel):
    refresh_token: RefreshTokenValue


class VerifyEmailIn(RequestModel):
    token: LinkToken


class PasswordResetIn(RequestModel):
    email: GivenEmail


class PasswordResetConfirmIn(RequestModel):
    token: LinkToken
    new_password: NewPassword


class ProfileUpdateIn(RequestModel):
    full_name: Omittable[FullName] = None
    current_password: Omittable[GivenPassword] = None
    new_password: Omittable[NewPassword] = None


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    account_id: uuid.UUID = Field(description="The account the session acts for.")


class ProfileOut(BaseModel):
    id: int
    email: str
    full_name: str | None
    is_verified: bool
    created_at: UtcTime
    last_login_at: UtcTime | None


class MeOut(ProfileOut):
    account_id: uuid.UUID = Field(description="The account this request acts for.")
    role: str | None = Field(description="Your role in that account.")


class AccountOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    plan_tier: str
    created_at: UtcTime


class RegisteredOut(BaseModel):
    user: ProfileOut
    account: AccountOut
    tokens: TokenPairOut


class SessionOut(BaseModel):
    """One of your sessions: a sign-in, kept alive by refreshing its tokens."""

    id: uuid.UUID
    current: bool = Field(description="Whether this request belongs to it.")
    account_id: uuid.UUID = Field(description="The account it signed in to.")
    signed_in_at: UtcTime
    last_active_at: UtcTime = Field(description="Its sign-in or last token refresh.")
    expires_at: UtcTime = Field(description="When it ends unless its tokens are refreshed.")
    user_agent: str | None
    ip: str | None


class SessionsEndedOut(BaseModel):
    ended: int = Field(description="How many sessions were ended.")
