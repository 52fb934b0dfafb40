"""The two roles: the owner runs migrations, the app serves requests with no power over schema."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import APP_ROLE, OWNER_ROLE, DatabaseURLs


class TestRoles:
    def test_app_role_cannot_bypass_rls_or_create(self, shared_db: DatabaseURLs) -> None:
        with bootstrap.connect(shared_db.admin) as conn:
            row = conn.execute(
                "SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole "
                "FROM pg_roles WHERE rolname = %s",
                (APP_ROLE,),
            ).fetchone()
        assert row == (False, False, False, False)

    def test_app_role_owns_nothing(self, shared_db: DatabaseURLs) -> None:
        with bootstrap.connect(shared_db.admin) as conn:
            owned = conn.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                "WHERE r.rolname = %s",
                (APP_ROLE,),
            ).fetchone()
        assert owned == (0,)

    def test_owner_owns_the_schema_objects(self, shared_db: DatabaseURLs) -> None:
        with bootstrap.connect(shared_db.admin) as conn:
            owners = {
                r[0]
                for r in conn.execute(
                    "SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                )
            }
        assert owners == {OWNER_ROLE}

    async def test_app_role_cannot_change_the_schema(self, app_connection: AsyncConnection) -> None:
        with pytest.raises(ProgrammingError, match="permission denied"):
            await app_connection.execute(text("CREATE TABLE intruder (id int)"))

    async def test_app_role_cannot_move_the_revision(self, app_connection: AsyncConnection) -> None:
        with pytest.raises(ProgrammingError, match="permission denied"):
            await app_connection.execute(text("UPDATE alembic_version SET version_num = 'x'"))

    def test_bootstrap_is_idempotent_and_creates_missing_roles(
        self, shared_db: DatabaseURLs
    ) -> None:
        bootstrap.ensure_roles(shared_db.admin)
        bootstrap.ensure_roles(shared_db.admin)
        with bootstrap.connect(shared_db.admin) as conn:
            names = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
        assert {APP_ROLE, OWNER_ROLE} <= names

    def test_unreachable_server_is_one_clear_error(self, shared_db: DatabaseURLs) -> None:
        nowhere = shared_db.admin.set(host="127.0.0.1", port=1, query={})
        with pytest.raises(bootstrap.DatabaseUnreachableError, match="cannot connect to"):
            bootstrap.connect(nowhere)
        assert issubclass(bootstrap.DatabaseUnreachableError, RuntimeError)
        assert psycopg  # the driver under test is psycopg 3
