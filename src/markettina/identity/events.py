"""The events identity publishes: accounts, their members and invitations, API keys and
connected social accounts. Payloads name things by id; never a secret, a token or a key's
hash."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, ClassVar

from pydantic import Field

from markettina.kernel.events import Event

# who did it: the ``*_by`` fields
ActingPerson = Annotated[
    int | None, Field(description="The acting person's user id; null when an API key acted.")
]

# --- accounts --------------------------------------------------------------------------------


class AccountCreated(Event):
    """Someone registered: their own account was created, with them as its owner."""

    event_type: ClassVar[str] = "account.created"
    aggregate_type: ClassVar[str] = "account"

    account_id: uuid.UUID
    user_id: int = Field(description="The person who registered: the account's owner.")
    name: str
    slug: str
    plan_tier: str


class SubAccountCreated(Event):
    """A sub-account (an agency's client) was created; recorded on the parent account."""

    event_type: ClassVar[str] = "account.sub_account_created"
    aggregate_type: ClassVar[str] = "account"

    account_id: uuid.UUID = Field(description="The parent account.")
    sub_account_id: uuid.UUID
    name: str
    slug: str
    created_by: ActingPerson


class AccountUpdated(Event):
    """The account's name or settings were changed."""

    event_type: ClassVar[str] = "account.updated"
    aggregate_type: ClassVar[str] = "account"

    account_id: uuid.UUID
    changed: list[str] = Field(description="The fields the change set, sorted: name, settings.")
    name: str = Field(description="The account's name after the change.")
    updated_by: ActingPerson


class AccountSuspended(Event):
    """Staff suspended the account: its tokens and API keys are refused until reinstated."""

    event_type: ClassVar[str] = "account.suspended"
    aggregate_type: ClassVar[str] = "account"

    account_id: uuid.UUID
    suspended_at: dt.datetime


class AccountReinstated(Event):
    """Staff lifted the account's suspension: its tokens and API keys work again."""

    event_type: ClassVar[str] = "account.reinstated"
    aggregate_type: ClassVar[str] = "account"

    account_id: uuid.UUID


# --- members and invitations -------------------------------------------------------------------


class MemberInvited(Event):
    """An invitation to join the account was e-mailed."""

    event_type: ClassVar[str] = "member.invited"
    aggregate_type: ClassVar[str] = "invitation"

    invitation_id: uuid.UUID
    email: str = Field(description="The invitee's address.")
    role: str
    invited_by: ActingPerson
    expires_at: dt.datetime


class InvitationRevoked(Event):
    """A pending invitation was revoked: its link no longer works."""

    event_type: ClassVar[str] = "invitation.revoked"
    aggregate_type: ClassVar[str] = "invitation"

    invitation_id: uuid.UUID
    email: str
    role: str
    revoked_by: ActingPerson


class MemberJoined(Event):
    """Someone accepted an invitation and became a member of the account."""

    event_type: ClassVar[str] = "member.joined"
    aggregate_type: ClassVar[str] = "member"

    user_id: int
    role: str
    invitation_id: uuid.UUID
    invited_by: int | None = Field(description="Who sent the invitation; null if an API key did.")


class MemberRoleChanged(Event):
    """A member was given another role."""

    event_type: ClassVar[str] = "member.role_changed"
    aggregate_type: ClassVar[str] = "member"

    user_id: int
    old_role: str
    new_role: str
    changed_by: ActingPerson


class MemberRemoved(Event):
    """A member was removed from the account, or left it (``removed_by`` is then themself);
    their extra permission grants in the account went with them."""

    event_type: ClassVar[str] = "member.removed"
    aggregate_type: ClassVar[str] = "member"

    user_id: int
    role: str = Field(description="The role the member had.")
    removed_by: ActingPerson


# --- API keys ----------------------------------------------------------------------------------


class ApiKeyCreated(Event):
    """An API key was issued (the key itself is never published: only its visible prefix)."""

    event_type: ClassVar[str] = "api_key.created"
    aggregate_type: ClassVar[str] = "api_key"

    api_key_id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    expires_at: dt.datetime | None
    created_by: ActingPerson


class ApiKeyRevoked(Event):
    """An API key was revoked: it is refused from now on."""

    event_type: ClassVar[str] = "api_key.revoked"
    aggregate_type: ClassVar[str] = "api_key"

    api_key_id: uuid.UUID
    name: str
    prefix: str
    revoked_by: ActingPerson


# --- social accounts ---------------------------------------------------------------------------


class SocialAccountConnected(Event):
    """A social platform account was connected through OAuth, or connected again (the same
    platform user's account is then refreshed, or revived if it had been disconnected)."""

    event_type: ClassVar[str] = "social_account.connected"
    aggregate_type: ClassVar[str] = "social_account"

    social_account_id: uuid.UUID
    platform: str
    platform_user_id: str
    handle: str | None
    is_primary: bool = Field(description="Whether it is its platform's primary account.")
    connected_by: ActingPerson


class SocialAccountDisconnected(Event):
    """A social account was disconnected: its tokens were wiped."""

    event_type: ClassVar[str] = "social_account.disconnected"
    aggregate_type: ClassVar[str] = "social_account"

    social_account_id: uuid.UUID
    platform: str
    new_primary_id: uuid.UUID | None = Field(
        description="The account of the platform that became primary in its place, if any."
    )
    disconnected_by: ActingPerson
