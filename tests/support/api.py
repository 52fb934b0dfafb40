"""Drive the ASGI app in-process with its lifespan, over httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from markettina.app import create_app
from markettina.kernel.db.urls import DatabaseURLs
from markettina.settings import Settings

TEST_ENCRYPTION_KEY = "PzM2Y2E4ZjEtZmFrZS1rZXktZm9yLXRlc3RzLW9ubHk="


@asynccontextmanager
async def api_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def suite_settings() -> Settings:
    """Settings for apps under test: fixed secrets, nothing written to a real data folder."""
    from tests.support.identity import TEST_SECRET_KEY

    return Settings(
        environment="test",
        secret_key=SecretStr(TEST_SECRET_KEY),
        encryption_keys=[SecretStr(TEST_ENCRYPTION_KEY)],
        log_json=True,
        # the suite signs in far more often than a person; tests of the limit set their own
        address_limit_per_minute=100_000,
        address_limit_per_hour=1_000_000,
    )


def make_app(urls: DatabaseURLs) -> FastAPI:
    return create_app(urls=urls, settings=suite_settings())
