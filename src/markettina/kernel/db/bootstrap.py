"""Create the two roles and the database of the service when they are missing.

``markettina_owner`` owns the schema and runs migrations; ``markettina_app`` serves
requests, owns nothing and never bypasses row-level security.
"""

from __future__ import annotations

import contextlib
from typing import LiteralString

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from .urls import APP_ROLE, OWNER_ROLE, DatabaseURLs, as_libpq_url


class DatabaseUnreachableError(RuntimeError):
    """The PostgreSQL server could not be reached or refused the connection."""


def connect(url: URL, *, autocommit: bool = True) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(as_libpq_url(url), autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        where = url.set(drivername="postgresql").render_as_string(hide_password=True)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnreachableError(f"cannot connect to {where}: {first_line}") from exc


# The owner runs migrations and cross-tenant maintenance (view refresh, retention), so it
# bypasses row-level security; the app never does.
OWNER_OPTIONS: LiteralString = "LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE"
APP_OPTIONS: LiteralString = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"


def _ensure_role(
    cur: psycopg.Cursor[tuple[object, ...]], name: str, options: LiteralString, password: str | None
) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    verb = "ALTER" if cur.fetchone() else "CREATE"
    statement = sql.SQL("{} ROLE {} WITH {}").format(
        sql.SQL(verb), sql.Identifier(name), sql.SQL(options)
    )
    if password is not None:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    # another process may create it between our check and our CREATE
    with contextlib.suppress(psycopg.errors.DuplicateObject):
        cur.execute(statement)


def ensure_roles(
    admin: URL, *, owner_password: str | None = None, app_password: str | None = None
) -> None:
    with connect(admin.set(database="postgres")) as conn, conn.cursor() as cur:
        _ensure_role(cur, OWNER_ROLE, OWNER_OPTIONS, owner_password)
        _ensure_role(cur, APP_ROLE, APP_OPTIONS, app_password)


def database_exists(admin: URL, name: str) -> bool:
    with connect(admin.set(database="postgres")) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None


def create_database(admin: URL, name: str, *, template: str | None = None) -> None:
    statement = sql.SQL("CREATE DATABASE {} OWNER {}").format(
        sql.Identifier(name), sql.Identifier(OWNER_ROLE)
    )
    if template is not None:
        statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
    with (
        connect(admin.set(database="postgres")) as conn,
        contextlib.suppress(psycopg.errors.DuplicateDatabase),
    ):
        conn.execute(statement)


def drop_database(admin: URL, name: str) -> None:
    with connect(admin.set(database="postgres")) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def prepare_database(admin: URL, name: str) -> None:
    """Let both roles in, give the owner the schema, and add pgvector when the server has it."""
    with connect(admin.set(database=name)) as conn:
        conn.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}, {}").format(
                sql.Identifier(name), sql.Identifier(OWNER_ROLE), sql.Identifier(APP_ROLE)
            )
        )
        conn.execute(
            sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(sql.Identifier(OWNER_ROLE))
        )
        has_vector = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
        if has_vector:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


def bootstrap(urls: DatabaseURLs, *, owner_password: str | None, app_password: str | None) -> None:
    """Everything the migrations and the service need before they can connect."""
    ensure_roles(urls.admin, owner_password=owner_password, app_password=app_password)
    if not database_exists(urls.admin, urls.database):
        create_database(urls.admin, urls.database)
    prepare_database(urls.admin, urls.database)
