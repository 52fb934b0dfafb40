"""Fixtures of the billing tests: one database and one API client per test module, the
client's app speaking to a fake Stripe (the real SDK, over HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from pydantic import SecretStr

from markettina.app import create_app
from markettina.kernel.db.urls import DatabaseURLs
from markettina.settings import Settings
from tests.support.api import api_client, suite_settings
from tests.support.fake_stripe import TEST_API_KEY, TEST_WEBHOOK_SECRET, FakeStripe


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe().running() as fake:
        yield fake


def stripe_settings(fake: FakeStripe) -> Settings:
    return suite_settings().model_copy(
        update={
            "stripe_secret_key": SecretStr(TEST_API_KEY),
            "stripe_webhook_secret": SecretStr(TEST_WEBHOOK_SECRET),
            "stripe_api_base": fake.base_url,
            "seller_name": "Markettina S.r.l.",
            "seller_vat_id": "IT00000000001",
        }
    )


@pytest.fixture(scope="module")
async def client(db: DatabaseURLs, fake_stripe: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(create_app(urls=db, settings=stripe_settings(fake_stripe))) as http:
        yield http
