"""What other contexts may use from identity: the request pipeline and authorization."""

from __future__ import annotations

from .dependencies import CurrentActor, Transaction, admits, require
from .openapi import GUARDS, SECURITY_SCHEMES
from .permissions import ALL_PERMISSIONS, ROLE_PERMISSIONS, Resource
from .principal import Actor, Principal
from .staff import record_staff_action
from .staff_auth import Staff, StaffMember

__all__ = [
    "ALL_PERMISSIONS", "GUARDS", "ROLE_PERMISSIONS", "SECURITY_SCHEMES", "Actor", "CurrentActor",
    "Principal", "Resource", "Staff", "StaffMember", "Transaction", "admits",
    "record_staff_action", "require",
]  # fmt: skip
