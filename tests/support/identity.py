"""People and accounts for tests, made directly in the database, with real credentials."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from markettina.identity.principal import ACCESS_AUDIENCE
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import digest, issue_token, new_api_key, opaque_secret

# the API in tests signs with this (see tests.support.identity.TEST_SECRETS)
TEST_SECRET_KEY = "test-secret-key-" + "x" * 32


@dataclass(frozen=True)
class Member:
    user_id: int
    account_id: uuid.UUID
    role: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Key:
    account_id: uuid.UUID
    key: str
    key_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"ApiKey {self.key}"}


def new_account(urls: DatabaseURLs, *, parent: uuid.UUID | None = None) -> uuid.UUID:
    slug = f"acct-{uuid.uuid4().hex[:10]}"
    with bootstrap.connect(urls.owner) as conn:
        row = conn.execute(
            "INSERT INTO accounts (name, slug, parent_account_id) VALUES (%s, %s, %s) RETURNING id",
            (slug, slug, parent),
        ).fetchone()
    assert row is not None
    return row[0]


def access_token(user_id: int, account_id: uuid.UUID, family: uuid.UUID, *,
                 ttl: dt.timedelta = dt.timedelta(minutes=15)) -> str:  # fmt: skip
    return issue_token(
        secret=TEST_SECRET_KEY, subject=str(user_id), audience=ACCESS_AUDIENCE, ttl=ttl,
        typ="access", acc=str(account_id), fam=str(family),
    )  # fmt: skip


def new_member(urls: DatabaseURLs, account_id: uuid.UUID, role: str = "owner") -> Member:
    """A verified user who is ``role`` of ``account_id``, signed in (a live session)."""
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    family = uuid.uuid4()
    with bootstrap.connect(urls.owner) as conn:
        user_row = conn.execute(
            "INSERT INTO users (email, full_name, is_verified) VALUES (%s, 'Test', true) "
            "RETURNING id",
            (email,),
        ).fetchone()
        assert user_row is not None
        user_id = user_row[0]
        conn.execute(
            "INSERT INTO account_memberships (account_id, user_id, role, accepted_at) "
            "VALUES (%s, %s, %s, now())",
            (account_id, user_id, role),
        )
        conn.execute(
            "INSERT INTO refresh_tokens (user_id, session_account_id, family_id, token_hash, "
            "expires_at) VALUES (%s, %s, %s, %s, now() + interval '1 day')",
            (user_id, account_id, family, digest(opaque_secret())),
        )
    return Member(user_id, account_id, role, email, access_token(user_id, account_id, family))


def new_key(urls: DatabaseURLs, account_id: uuid.UUID, scopes: list[str]) -> Key:
    created = new_api_key()
    with bootstrap.connect(urls.owner) as conn:
        row = conn.execute(
            "INSERT INTO api_keys (account_id, name, prefix, key_hash, scopes) "
            "VALUES (%s, 'test key', %s, %s, %s) RETURNING id",
            (account_id, created.prefix, created.key_hash, scopes),
        ).fetchone()
    assert row is not None
    return Key(account_id, created.key, row[0])
