"""Who may do what: the role -> permission table, and the one ``authorize`` every
endpoint goes through. docs/api.md shows the same table."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from markettina.kernel.errors import Forbidden

ROLES = ("owner", "admin", "editor", "viewer")

# permission names are "<area>:<action>"; API key scopes and user grants use the same names
READ = frozenset(
    {
        "account:read", "members:read", "sub_accounts:read", "api_keys:read",
        "content:read", "analytics:read", "social:read", "ai:read", "workflow:read",
        "knowledge:read", "billing:read", "webhooks:read", "features:read", "jobs:read",
    }
)  # fmt: skip
WRITE = frozenset(
    {
        "content:write", "content:publish", "social:write", "ai:use", "workflow:write",
        "knowledge:write", "jobs:manage",
    }
)  # fmt: skip
MANAGE = frozenset(
    {
        "account:update", "members:invite", "members:manage", "sub_accounts:create",
        "api_keys:manage", "permissions:manage", "billing:manage", "webhooks:manage",
    }
)  # fmt: skip
OWNER_ONLY = frozenset({"members:manage_owners", "account:delete"})
# the raw event stream (every context's changes, full row snapshots): for the people who
# build automations and integrations on it, not for read-only members
INTEGRATION = frozenset({"events:read"})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": READ | WRITE | MANAGE | OWNER_ONLY | INTEGRATION,
    "admin": READ | WRITE | MANAGE | INTEGRATION,
    "editor": READ | WRITE | INTEGRATION,
    "viewer": READ,
}
ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


@dataclass(frozen=True)
class Resource:
    """One thing a grant can name: a type (``campaign``) and, optionally, its id."""

    type: str
    id: str | None = None


@dataclass(frozen=True)
class Grant:
    permission: str
    resource_type: str
    resource_id: UUID | None

    def covers(self, permission: str, resource: Resource | None) -> bool:
        if permission != self.permission or resource is None:
            return False
        if resource.type != self.resource_type:
            return False
        if self.resource_id is None:
            return True
        return resource.id is not None and str(self.resource_id) == resource.id.strip().lower()


def role_allows(role: str | None, permission: str) -> bool:
    return role is not None and permission in ROLE_PERMISSIONS.get(role, frozenset())


def authorize(
    permissions: frozenset[str],
    grants: tuple[Grant, ...],
    permission: str,
    resource: Resource | None = None,
) -> None:
    """Raise Forbidden unless ``permission`` is held outright or granted on ``resource``."""
    if permission in permissions:
        return
    if any(grant.covers(permission, resource) for grant in grants):
        return
    raise Forbidden(f"this needs the {permission} permission", code="permission_denied")
