"""Failed logins cannot starve requests of connections: the failure count is written beside
the request's transaction on a side pool of its own, so more concurrent wrong passwords
than the request pool holds all get their 401 (or 429 once sign-in is locked) promptly,
and a signed-in request sent among them is served."""

from __future__ import annotations

import asyncio
import time

from markettina.app import create_app
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.api import api_client, suite_settings
from tests.support.identity import new_account, new_member

POOL_SIZE = 5
LOGINS = 100


async def test_concurrent_failed_logins_leave_requests_their_connections(
    fresh_db: DatabaseURLs,
) -> None:
    member = new_member(fresh_db, new_account(fresh_db))
    settings = suite_settings().model_copy(
        # without a pool of its own, side work waits this long for a connection, then 500s
        update={"pool_size": POOL_SIZE, "pool_max_overflow": 0, "pool_timeout": 10.0}
    )
    async with api_client(create_app(urls=fresh_db, settings=settings)) as client:

        async def wrong_login() -> int:
            wrong = {"email": member.email, "password": "not the password"}
            return (await client.post("/v1/auth/login", json=wrong)).status_code

        async def signed_in_read() -> tuple[int, float]:
            await asyncio.sleep(0.05)  # among the logins, which hold the pool by now
            started = time.monotonic()
            response = await client.get("/v1/account", headers=member.headers)
            return response.status_code, time.monotonic() - started

        started = time.monotonic()
        logins = asyncio.gather(*(wrong_login() for _ in range(LOGINS)))
        async with asyncio.timeout(60):  # starved, they would wait far longer
            (status, waited), statuses = await asyncio.gather(signed_in_read(), logins)
        took = time.monotonic() - started

    assert set(statuses) <= {401, 429}, sorted(statuses)
    assert 401 in statuses and 429 in statuses  # the count was written: sign-in got locked
    assert status == 200
    assert took < settings.pool_timeout, (took, waited)
