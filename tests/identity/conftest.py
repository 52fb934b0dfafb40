"""Fixtures of the identity tests: one database and one API client per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.api import api_client, make_app
from tests.support.databases import SuiteDatabases


@pytest.fixture(scope="module")
def db(databases: SuiteDatabases, template_db: DatabaseURLs) -> Iterator[DatabaseURLs]:
    """A database of the module's own, cloned from the migrated template."""
    with databases.fresh(template_db) as urls:
        yield urls


@pytest.fixture(scope="module")
async def client(db: DatabaseURLs) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(make_app(db)) as http:
        yield http
