"""Tenant isolation is PostgreSQL's job: every tenant table, walked from the schema, is
checked as markettina_app for reads, writes and references across accounts."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy import ForeignKeyConstraint, Table, and_, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from markettina.schema import metadata
from tests.support.rows import RowBuilder, set_tenant

pytestmark = pytest.mark.migrations

# feature_flags mixes global defaults (account_id NULL) with per-account rows, and the app
# may only read the v1 brand_settings: each has a test of its own
TENANT_TABLES = sorted(
    t.name
    for t in metadata.tables.values()
    if "account_id" in t.c and t.name not in {"feature_flags", "brand_settings"}
)


def _composite_fks() -> list[tuple[str, str]]:
    pairs = []
    for table in metadata.tables.values():
        for fk in table.foreign_key_constraints:
            names = [c.name for c in fk.columns]
            if names[0] == "account_id" and len(names) > 1:
                pairs.append((table.name, str(fk.name)))
    return sorted(pairs)


COMPOSITE_FKS = _composite_fks()


def _key(table: Table, row: dict[str, Any]) -> Any:
    return and_(*(column == row[column.name] for column in table.primary_key.columns))


async def _count(conn: AsyncConnection, table: Table, where: Any = None) -> int:
    query = select(func.count()).select_from(table)
    if where is not None:
        query = query.where(where)
    return int((await conn.execute(query)).scalar_one())


async def _app_may(conn: AsyncConnection, table: Table, privilege: str) -> bool:
    """Whether the app role may run ``privilege`` here; an UPDATE of these tests sets
    ``account_id``, which a table granting UPDATE column by column (campaigns) may allow."""
    if privilege == "UPDATE":
        query = text("SELECT has_column_privilege(current_user, :table, 'account_id', 'UPDATE')")
        return bool((await conn.execute(query, {"table": table.name})).scalar_one())
    query = text("SELECT has_table_privilege(current_user, :table, :privilege)")
    return bool(
        (await conn.execute(query, {"table": table.name, "privilege": privilege})).scalar_one()
    )


@pytest.mark.parametrize("table_name", TENANT_TABLES)
async def test_rows_are_visible_only_to_their_account(
    app_connection: AsyncConnection, table_name: str
) -> None:
    table = metadata.tables[table_name]
    rows = RowBuilder(app_connection)
    owner, other = await rows.account(), await rows.account()
    row = await rows.insert(table_name, owner)

    await set_tenant(app_connection, owner)
    assert await _count(app_connection, table, _key(table, row)) == 1
    await set_tenant(app_connection, other)
    assert await _count(app_connection, table) == 0
    await set_tenant(app_connection, None)
    assert await _count(app_connection, table) == 0


@pytest.mark.parametrize("table_name", TENANT_TABLES)
async def test_other_accounts_rows_cannot_be_written(
    app_connection: AsyncConnection, table_name: str
) -> None:
    table = metadata.tables[table_name]
    rows = RowBuilder(app_connection)
    owner, other = await rows.account(), await rows.account()
    row = await rows.insert(table_name, owner)

    await set_tenant(app_connection, other)
    for change in (
        update(table).where(_key(table, row)).values(account_id=other),
        delete(table).where(_key(table, row)),
    ):
        if await _app_may(app_connection, table, change.__visit_name__.upper()):
            assert (await app_connection.execute(change)).rowcount == 0
        else:  # history tables: no account may change them at all
            with pytest.raises(ProgrammingError, match="permission denied"):
                async with app_connection.begin_nested():
                    await app_connection.execute(change)
    await set_tenant(app_connection, owner)
    assert await _count(app_connection, table, _key(table, row)) == 1

    # a new row that names another account is refused by the policy's WITH CHECK
    # (it reuses the first row's references, which are valid in the owner's account)
    references = list(
        {c.name: c for fk in table.foreign_key_constraints for c in fk.columns}.values()
    )
    existing = (await app_connection.execute(select(*references).where(_key(table, row)))).one()
    values = {**rows.values(table), **existing._asdict()}
    await set_tenant(app_connection, other)
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with app_connection.begin_nested():
            await app_connection.execute(table.insert().values({**values, "account_id": owner}))

    await set_tenant(app_connection, None)
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with app_connection.begin_nested():
            await app_connection.execute(table.insert().values({**values, "account_id": owner}))


@pytest.mark.parametrize(("table_name", "fk_name"), COMPOSITE_FKS)
async def test_references_cannot_cross_accounts(
    app_connection: AsyncConnection, table_name: str, fk_name: str
) -> None:
    table = metadata.tables[table_name]
    fk = next(c for c in table.foreign_key_constraints if c.name == fk_name)
    assert isinstance(fk, ForeignKeyConstraint)
    rows = RowBuilder(app_connection)
    owner, other = await rows.account(), await rows.account()
    foreign_parent = await rows.insert(fk.referred_table.name, owner)

    values = rows.values(table)
    values.update(await rows.parents(table, other))
    for column, element in zip(fk.columns, fk.elements, strict=True):
        if column.name != "account_id":
            values[column.name] = foreign_parent[element.column.name]
    values["account_id"] = other
    await set_tenant(app_connection, other)
    with pytest.raises(IntegrityError) as refused:
        async with app_connection.begin_nested():
            await app_connection.execute(table.insert().values(**values))
    assert refused.value.orig.sqlstate == "23503"  # foreign_key_violation


async def test_feature_flags_show_global_defaults_and_own_overrides_only(
    app_connection: AsyncConnection,
) -> None:
    table = metadata.tables["feature_flags"]
    rows = RowBuilder(app_connection)
    owner, other = await rows.account(), await rows.account()
    await rows.insert("feature_flags", owner, feature_name="beta_editor")
    await set_tenant(app_connection, other)
    assert await _count(app_connection, table, table.c.feature_name == "beta_editor") == 0
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with app_connection.begin_nested():
            await app_connection.execute(
                table.insert().values(feature_name="global_switch", account_id=None)
            )


def test_v1_brand_settings_are_read_only_and_isolated(fresh_db: DatabaseURLs) -> None:
    with bootstrap.connect(fresh_db.owner) as owner:
        account = owner.execute(
            "INSERT INTO accounts (name, slug) VALUES ('A', 'a') RETURNING id"
        ).fetchone()[0]
        user = owner.execute("INSERT INTO users (email) VALUES ('a@x.example') RETURNING id")
        owner.execute(
            "INSERT INTO brand_settings (account_id, user_id, company_name) VALUES (%s, %s, 'A')",
            (account, user.fetchone()[0]),
        )
    with bootstrap.connect(fresh_db.app, autocommit=False) as app:
        app.execute("SELECT set_config('app.current_account_id', %s, true)", (str(account),))
        assert app.execute("SELECT company_name FROM brand_settings").fetchall() == [("A",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("UPDATE brand_settings SET company_name = 'B'")
        app.rollback()
        app.execute("SELECT set_config('app.current_account_id', %s, true)", (str(uuid.uuid4()),))
        assert app.execute("SELECT count(*) FROM brand_settings").fetchone() == (0,)


def test_every_table_with_account_id_has_forced_rls_and_a_tenant_policy(
    shared_db: DatabaseURLs,
) -> None:
    """Read from the live catalog, partitions included: nothing escapes by being new."""
    with bootstrap.connect(shared_db.owner) as conn:
        rows = conn.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                           AND pg_get_expr(p.polqual, p.polrelid) LIKE '%app.current_account_id%'
                           AND pg_get_expr(p.polwithcheck, p.polrelid)
                               LIKE '%app.current_account_id%')
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'account_id'
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
            """
        ).fetchall()
    assert len(rows) >= len(TENANT_TABLES)
    unprotected = [
        name for name, enabled, forced, policy in rows if not (enabled and forced and policy)
    ]
    assert unprotected == []


def test_app_role_cannot_switch_rls_off_or_alter_tables(shared_db: DatabaseURLs) -> None:
    with bootstrap.connect(shared_db.app) as conn:
        for statement in (
            "ALTER TABLE leads DISABLE ROW LEVEL SECURITY",
            "ALTER TABLE leads NO FORCE ROW LEVEL SECURITY",
            "DROP POLICY tenant_isolation ON leads",
            "ALTER TABLE leads ADD COLUMN sneaky int",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
                conn.execute(statement)
        conn.execute("SET row_security = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("SELECT * FROM leads")


def test_app_role_has_no_privilege_on_materialized_views(shared_db: DatabaseURLs) -> None:
    with bootstrap.connect(shared_db.owner) as conn:
        granted = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'm' "
            "AND has_table_privilege('markettina_app', c.oid, 'SELECT')"
        ).fetchall()
    assert granted == []


async def test_unknown_tenant_sees_nothing(app_connection: AsyncConnection) -> None:
    await set_tenant(app_connection, uuid.uuid4())
    assert (await app_connection.execute(text("SELECT count(*) FROM leads"))).scalar_one() == 0
