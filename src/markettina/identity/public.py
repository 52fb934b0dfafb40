"""What other contexts may use from identity: the request pipeline and authorization."""

from __future__ import annotations

from .dependencies import (
    Connection,
    CurrentActor,
    Transaction,
    admits,
    require,
    require_on_connection,
)
from .openapi import GUARDS, SECURITY_SCHEMES
from .permissions import ALL_PERMISSIONS, ROLE_PERMISSIONS, Resource
from .plain_reads import ROWS_IN_PYTHON, STAFF_ONLY, not_plain, of_acting_account, plain_read
from .principal import Actor, Principal
from .social_targets import publishable_social_accounts
from .staff import record_staff_action
from .staff_auth import Staff, StaffMember

__all__ = [
    "ALL_PERMISSIONS", "GUARDS", "ROLE_PERMISSIONS", "ROWS_IN_PYTHON", "SECURITY_SCHEMES",
    "STAFF_ONLY", "Actor", "Connection", "CurrentActor", "Principal", "Resource", "Staff",
    "StaffMember", "Transaction", "admits", "not_plain", "of_acting_account", "plain_read",
    "publishable_social_accounts", "record_staff_action", "require", "require_on_connection",
]  # fmt: skip
