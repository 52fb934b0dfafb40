"""Staff members and their sessions for tests, made directly in the database."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import digest, opaque_secret
from tests.support.checks import sql


@dataclass(frozen=True)
class StaffSession:
    admin_user_id: int
    headers: dict[str, str]


def new_staff_session(urls: DatabaseURLs) -> StaffSession:
    """An active staff member with a live 8-hour session (sign-in itself is tested elsewhere)."""
    [(admin_user_id,)] = sql(
        urls,
        "INSERT INTO admin_users (email, password_hash) VALUES (%s, 'not-a-hash') RETURNING id",
        f"staff-{uuid.uuid4().hex[:10]}@example.com",
    )
    token = opaque_secret()
    sql(
        urls,
        "INSERT INTO admin_sessions (admin_user_id, token_hash, expires_at) VALUES (%s, %s, %s)",
        admin_user_id, digest(token), dt.datetime.now(dt.UTC) + dt.timedelta(hours=8),
    )  # fmt: skip
    return StaffSession(admin_user_id, {"Authorization": f"Bearer {token}"})
