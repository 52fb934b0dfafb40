"""Fixtures shared by the whole suite. Every test talks to a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.api import api_client, make_app
from tests.support.databases import SuiteDatabases


@pytest.fixture(scope="session")
def databases() -> Iterator[SuiteDatabases]:
    manager = SuiteDatabases.start()
    try:
        yield manager
    finally:
        manager.drop_all()


@pytest.fixture(scope="session")
def template_db(databases: SuiteDatabases) -> DatabaseURLs:
    """Migrated to head once per session; cloned for tests that need their own database."""
    return databases.migrated_template()


@pytest.fixture(scope="session")
def shared_db(databases: SuiteDatabases, template_db: DatabaseURLs) -> DatabaseURLs:
    """One clone shared by the tests that run inside a rolled-back transaction."""
    return databases.clone(template_db, "shared")


@pytest.fixture
def fresh_db(databases: SuiteDatabases, template_db: DatabaseURLs) -> Iterator[DatabaseURLs]:
    """A database of the test's own (for real commits, several connections, processes)."""
    with databases.fresh(template_db) as urls:
        yield urls


@pytest.fixture(scope="session")
async def app_engine(shared_db: DatabaseURLs) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(shared_db.app, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def app_connection(app_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection as markettina_app inside a transaction that is always rolled back."""
    async with app_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(app_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """An ORM session as markettina_app; its commits become savepoints of the outer,
    rolled-back transaction, so nothing a test writes outlives it."""
    async with AsyncSession(
        bind=app_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as db_session:
        yield db_session


@pytest.fixture(scope="module")
def db(databases: SuiteDatabases, template_db: DatabaseURLs) -> Iterator[DatabaseURLs]:
    """A database of the test module's own, cloned from the migrated template."""
    with databases.fresh(template_db) as urls:
        yield urls


@pytest.fixture(scope="module")
async def client(db: DatabaseURLs) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the module's database, in-process with its lifespan."""
    async with api_client(make_app(db)) as http:
        yield http
