"""Disconnecting a social account revokes its tokens at the platform (RFC 7009) after the
commit: a job deferred with the disconnection carries the tokens still encrypted, and the
worker revokes the refresh token, then the access token, against the fake OAuth server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from markettina.adapters.social import OAuth2Platform
from markettina.identity.social_ports import PlatformError
from markettina.identity.social_revocation import revoke_social_tokens, revoke_tokens
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import SecretBox
from tests.support.api import TEST_ENCRYPTION_KEY
from tests.support.checks import sql
from tests.support.fake_platform import FakePlatform, FakeServer, connected
from tests.support.identity import Member, new_account, new_member

BOX = SecretBox([TEST_ENCRYPTION_KEY])


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


def revocation_jobs(urls: DatabaseURLs) -> list[dict[str, Any]]:
    rows = sql(
        urls,
        "SELECT args FROM procrastinate_jobs WHERE task_name = 'identity.revoke_social_tokens' "
        "ORDER BY id",
    )
    return [row[0] for row in rows]


async def disconnected(
    client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
) -> dict[str, Any]:
    """Connect, disconnect; the revocation job's arguments."""
    before = len(revocation_jobs(db))
    account = await connected(client, owner)
    response = await client.delete(f"/v1/social-accounts/{account['id']}", headers=owner.headers)
    assert response.status_code == 204, response.text
    jobs = revocation_jobs(db)
    assert len(jobs) == before + 1
    args = jobs[-1]
    assert args["social_account_id"] == account["id"]
    return args


async def test_disconnecting_defers_a_revocation_of_encrypted_tokens(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, fake: FakePlatform
) -> None:
    args = await disconnected(client, owner, db)
    issued = fake.issued[-1]
    assert [hint for hint, _ in args["tokens"]] == ["refresh_token", "access_token"]
    assert issued["access_token"] not in json.dumps(args)  # only ciphertext in the queue
    assert [BOX.decrypt(token) for _, token in args["tokens"]] == [
        issued["refresh_token"], issued["access_token"],
    ]  # fmt: skip


async def test_the_job_revokes_both_tokens_at_the_platform(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, fake: FakePlatform,
    fake_server: FakeServer,
) -> None:  # fmt: skip
    args = await disconnected(client, owner, db)
    issued = fake.issued[-1]
    platform = OAuth2Platform(fake_server.config())
    assert await revoke_tokens(platform, args["tokens"], box=BOX) == 2
    assert fake.revoked == [
        ("refresh_token", issued["refresh_token"]), ("access_token", issued["access_token"]),
    ]  # fmt: skip
    async with httpx.AsyncClient() as http:
        bearer = {"Authorization": f"Bearer {issued['access_token']}"}
        me = await http.get(f"{fake_server.base_url}/api/me", headers=bearer)
    assert me.status_code == 401


async def test_a_platform_that_is_down_fails_the_job_for_a_retry(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, fake: FakePlatform,
    fake_server: FakeServer,
) -> None:  # fmt: skip
    args = await disconnected(client, owner, db)
    fake.failing_revocations = 1
    platform = OAuth2Platform(fake_server.config())
    with pytest.raises(PlatformError, match="503"):
        await revoke_tokens(platform, args["tokens"], box=BOX)
    assert await revoke_tokens(platform, args["tokens"], box=BOX) == 2  # the retry


async def test_a_platform_without_revocation_is_left_alone(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, fake: FakePlatform,
    fake_server: FakeServer,
) -> None:  # fmt: skip
    args = await disconnected(client, owner, db)
    platform = OAuth2Platform(fake_server.config(revocation_url=None))
    assert await revoke_tokens(platform, args["tokens"], box=BOX) == 0
    assert fake.revoked == []


async def test_an_unconfigured_platform_is_skipped_by_the_job() -> None:
    result = await revoke_social_tokens(
        platform="no-such-platform", social_account_id="x", tokens=[["access_token", "x"]]
    )
    assert result == {"revoked": 0}
