"""The daily purge of sign-in tokens: ended sessions and the used tokens of live ones go
once expired for a week, but a live session keeps its first token (its sign-in time) and
its current one; e-mail links go too. The application role cannot run it."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from markettina.identity.tasks import purge_sign_in_tokens
from markettina.kernel import jobs
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from markettina.kernel.security import digest, opaque_secret
from tests.support.checks import sql
from tests.support.identity import new_account, new_member


def token(db: DatabaseURLs, user_id: int, account: uuid.UUID, family: uuid.UUID, *,
          issued_days_ago: int, expired_days_ago: int, used: bool) -> uuid.UUID:  # fmt: skip
    """A refresh token; a negative ``expired_days_ago`` is in the future."""
    [(token_id,)] = sql(
        db,
        "INSERT INTO refresh_tokens (user_id, session_account_id, family_id, token_hash, "
        "issued_at, expires_at, used_at) VALUES (%s, %s, %s, %s, now() - make_interval("
        "days => %s), now() - make_interval(days => %s), CASE WHEN %s THEN now() END) "
        "RETURNING id",
        user_id, account, family, digest(opaque_secret()), issued_days_ago, expired_days_ago,
        used,
    )  # fmt: skip
    return token_id  # type: ignore[no-any-return]


def link(db: DatabaseURLs, user_id: int, expired_days_ago: int) -> uuid.UUID:
    [(link_id,)] = sql(
        db,
        "INSERT INTO user_tokens (user_id, purpose, token_hash, expires_at) VALUES "
        "(%s, 'reset_password', %s, now() - make_interval(days => %s)) RETURNING id",
        user_id, digest(opaque_secret()), expired_days_ago,
    )  # fmt: skip
    return link_id  # type: ignore[no-any-return]


async def test_what_the_daily_purge_keeps_and_removes(db: DatabaseURLs) -> None:
    account = new_account(db)
    member = new_member(db, account)
    person = member.user_id
    ended, live, recent = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    gone = [
        token(db, person, account, ended, issued_days_ago=60, expired_days_ago=30, used=True),
        token(db, person, account, ended, issued_days_ago=40, expired_days_ago=10, used=False),
    ]
    first = token(db, person, account, live, issued_days_ago=50, expired_days_ago=20, used=True)
    gone.append(
        token(db, person, account, live, issued_days_ago=45, expired_days_ago=15, used=True)
    )
    current = token(db, person, account, live, issued_days_ago=1, expired_days_ago=-29, used=False)
    # expired three days ago: kept a while yet, ended or not
    lately = token(db, person, account, recent, issued_days_ago=33, expired_days_ago=3, used=False)
    old_link, new_link = link(db, person, 8), link(db, person, 1)

    jobs.configure_maintenance(as_libpq_url(db.owner))
    assert await purge_sign_in_tokens(timestamp=0) >= 4  # other tests' rows may go too

    left = {row_id for (row_id,) in sql(db, "SELECT id FROM refresh_tokens WHERE user_id = %s",
                                        person)}  # fmt: skip
    assert not left & set(gone)
    assert {first, current, lately} <= left
    links = {row_id for (row_id,) in sql(db, "SELECT id FROM user_tokens WHERE user_id = %s",
                                         person)}  # fmt: skip
    assert links == {new_link} and old_link not in links
    assert await purge_sign_in_tokens(timestamp=0) == 0


def test_the_application_role_cannot_purge(db: DatabaseURLs) -> None:
    with bootstrap.connect(db.app) as app, pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("SELECT purge_expired_sign_in_tokens()")
