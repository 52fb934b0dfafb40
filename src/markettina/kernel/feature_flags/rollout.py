"""Percentage rollout: each account has a stable bucket 0..99 per flag.

The bucket comes from a hash of the flag's name and the account id (the same in every
process and release), and an account is in when its bucket is below the percentage: the same
account always gets the same answer, and raising the percentage only adds accounts.
"""

from __future__ import annotations

import hashlib
import uuid


def rollout_bucket(feature_name: str, account_id: uuid.UUID) -> int:
    digest = hashlib.sha256(f"{feature_name}:{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def in_rollout(feature_name: str, account_id: uuid.UUID, percent: int) -> bool:
    return rollout_bucket(feature_name, account_id) < percent
