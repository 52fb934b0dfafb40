"""Acting as a tenant: ``tenant_scope`` sets the tenant and gives the previous one back,
nested, after errors too; the boundaries enter it once; it never outlives a transaction;
and nothing else in the code sets it."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import markettina
from markettina.identity.models import ApiKey
from markettina.kernel.db.raw import CompiledQuery, driver_connection
from markettina.kernel.db.tenant import (
    current_tenant,
    enter_tenant,
    tenant_scope,
    tenant_setting,
)
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.security import new_api_key


async def _new_account(session: AsyncSession) -> uuid.UUID:
    slug = f"acct-{uuid.uuid4().hex[:10]}"
    statement = text("INSERT INTO accounts (name, slug) VALUES (:s, :s) RETURNING id")
    account: uuid.UUID = (await session.execute(statement, {"s": slug})).scalar_one()
    return account


def _api_key(account_id: uuid.UUID) -> ApiKey:
    created = new_api_key()
    return ApiKey(account_id=account_id, name="k", prefix=created.prefix, key_hash=created.key_hash)


class TestTenantScope:
    async def test_sets_the_tenant_and_gives_the_previous_one_back(
        self, session: AsyncSession
    ) -> None:
        first, second = uuid.uuid4(), uuid.uuid4()
        async with tenant_scope(session, first):
            assert await current_tenant(session) == first
            async with tenant_scope(session, second):
                assert await current_tenant(session) == second
                async with tenant_scope(session, None):
                    assert await current_tenant(session) is None
                assert await current_tenant(session) == second
            assert await current_tenant(session) == first
        assert await current_tenant(session) is None

    async def test_gives_the_previous_one_back_when_the_block_raises(
        self, session: AsyncSession
    ) -> None:
        outer, inner = uuid.uuid4(), uuid.uuid4()
        await enter_tenant(session, outer)
        with pytest.raises(LookupError):
            async with tenant_scope(session, inner):
                raise LookupError
        assert await current_tenant(session) == outer

    async def test_after_a_database_error_the_error_is_what_the_caller_sees(
        self, app_engine: AsyncEngine
    ) -> None:
        # the transaction can only roll back: nothing is sent, and nothing masks the error
        async with AsyncSession(app_engine) as session:  # closed: rolled back
            with pytest.raises(DBAPIError) as raised:
                async with tenant_scope(session, uuid.uuid4()):
                    await session.execute(text("SELECT 1 / 0"))
            assert isinstance(raised.value.orig, psycopg.errors.DivisionByZero)

    async def test_a_savepoint_rolled_back_inside_the_block_leaves_it_usable(
        self, session: AsyncSession
    ) -> None:
        outer = uuid.uuid4()
        await enter_tenant(session, outer)
        with pytest.raises(DBAPIError):
            async with tenant_scope(session, uuid.uuid4()), session.begin_nested():
                await session.execute(text("SELECT 1 / 0"))
        assert await current_tenant(session) == outer

    async def test_rows_are_written_as_the_tenant_they_were_added_under(
        self, session: AsyncSession
    ) -> None:
        home, other = await _new_account(session), await _new_account(session)
        await enter_tenant(session, home)
        session.add(_api_key(home))  # pending: flushed as home before the switch
        async with tenant_scope(session, other):
            session.add(_api_key(other))  # flushed as other before the switch back
        mine = await session.scalar(text("SELECT count(*) FROM api_keys"))
        async with tenant_scope(session, other):
            theirs = await session.scalar(text("SELECT count(*) FROM api_keys"))
        assert (mine, theirs) == (1, 1)

    async def test_works_on_a_psycopg_connection_too(self, session: AsyncSession) -> None:
        connection = await driver_connection(session)
        account = uuid.uuid4()
        async with tenant_scope(connection, account):
            assert await current_tenant(connection) == account
        assert await current_tenant(connection) is None


class TestEnterTenant:
    async def test_sets_it_with_the_statement_that_needs_it_in_one_round_trip(
        self, session: AsyncSession
    ) -> None:
        account = uuid.uuid4()
        seen = CompiledQuery(text("SELECT current_setting('app.current_account_id') AS t"))
        rows = await enter_tenant(session, account, seen)
        assert [row.t for row in rows] == [str(account)]
        assert await current_tenant(session) == account

    async def test_a_statement_without_rows_gives_none(self, session: AsyncSession) -> None:
        nothing = CompiledQuery(text("SET LOCAL statement_timeout = '5s'"))
        assert await enter_tenant(session, uuid.uuid4(), nothing) == []

    async def test_the_setting_statement_tells_the_tenant_it_replaced(
        self, session: AsyncSession
    ) -> None:
        first, second = uuid.uuid4(), uuid.uuid4()
        await enter_tenant(session, first)
        query, params = tenant_setting(second)
        row = await query.one(session, **params)
        assert (row.previous, row.tenant) == (str(first), str(second))


async def test_tenant_ends_with_the_transaction(app_engine: AsyncEngine) -> None:
    account = uuid.uuid4()
    # one connection reused by two transactions: what a pool does between two requests
    async with app_engine.connect() as connection, AsyncSession(bind=connection) as session:
        async with session.begin():
            await enter_tenant(session, account)
            assert await current_tenant(session) == account
        async with session.begin():
            assert await current_tenant(session) is None


async def test_unit_of_work_sets_tenant_and_rolls_back_on_error(app_engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(app_engine, expire_on_commit=False)
    account = uuid.uuid4()
    with pytest.raises(LookupError):
        async with unit_of_work(sessions, account_id=account) as session:
            assert await current_tenant(session) == account
            raise LookupError
    async with unit_of_work(sessions, account_id=None) as session:
        assert await current_tenant(session) is None


# --- one way to set it ------------------------------------------------------------------------

SOURCE = Path(markettina.__file__).parent
TENANT_MODULE = "kernel/db/tenant.py"
# the transaction boundaries, which set the tenant once for the rest of the transaction
BOUNDARIES = {
    "kernel/db/unit_of_work.py",  # a job's transaction
    "identity/pipeline.py",  # a request's, once its caller is verified and admitted
    "kernel/webhooks/delivery.py",  # each step of a webhook attempt
    "kernel/async_jobs/tracking.py",  # each status change of an async job
}


def _sources() -> dict[str, str]:
    return {path.relative_to(SOURCE).as_posix(): path.read_text() for path in SOURCE.rglob("*.py")}


def test_only_the_tenant_module_writes_the_setting() -> None:
    by_hand = re.compile(r"set_config\(\s*'app\.current_account_id'|TENANT_SETTING")
    writers = {name for name, code in _sources().items() if by_hand.search(code)}
    # the generator of docs/database/ shows the statement in the documentation it writes
    assert {name for name in writers if not name.startswith("database_docs/")} == {TENANT_MODULE}


def test_only_the_boundaries_enter_a_tenant_without_a_scope() -> None:
    entering = re.compile(r"\b(enter_tenant|tenant_setting)\(")
    users = {name for name, code in _sources().items() if entering.search(code)}
    assert users - {TENANT_MODULE} == BOUNDARIES
