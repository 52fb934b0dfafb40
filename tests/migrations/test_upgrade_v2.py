"""Revision 0002 on a v1 database that holds data: every row survives in its owner's
account, and the downgrade gives back v1 exactly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from markettina.kernel.db import bootstrap, migrations
from markettina.kernel.db.urls import DatabaseURLs
from markettina.schema import V1_TABLES
from tests.support.databases import SuiteDatabases
from tests.support.v1_data import load_v1_dataset, snapshot, v1_columns

pytestmark = pytest.mark.migrations

V1 = "0001_v1_baseline"
V2 = "0002_markettina_v2"
# where a v1 row's owner is found: its own user_id, or its parent's
OWNED_THROUGH_PARENT = {
    "customer_notes": ("customers", "customer_id"),
    "customer_interactions": ("customers", "customer_id"),
    "token_transactions": ("token_wallets", "wallet_id"),
}
GLOBAL_V1_TABLES = {"users", "admin_users", "admin_sessions", "admin_audit_logs", "oauth_tokens",
                    "token_packages"}  # fmt: skip


@pytest.fixture
def v1_database(databases: SuiteDatabases) -> Iterator[DatabaseURLs]:
    urls = databases.empty("upgrade")
    migrations.upgrade(urls.owner, V1)
    with bootstrap.connect(urls.owner) as conn:
        load_v1_dataset(conn)
    yield urls
    databases.drop(urls)


def _v1_state(conn: psycopg.Connection[Any]) -> dict[str, tuple[list[str], list[Any]]]:
    state = {}
    for table in sorted(V1_TABLES):
        columns = v1_columns(conn, table)
        state[table] = (columns, snapshot(conn, table, columns))
    return state


def _account_of_user(conn: psycopg.Connection[Any]) -> dict[int, Any]:
    rows = conn.execute("SELECT user_id, account_id FROM account_memberships WHERE role = 'owner'")
    return dict(rows.fetchall())


def test_upgrade_keeps_every_row_in_its_owners_account(v1_database: DatabaseURLs) -> None:
    with bootstrap.connect(v1_database.owner) as conn:
        before = _v1_state(conn)
    assert all(rows for _, rows in before.values())  # every v1 table holds data

    migrations.upgrade(v1_database.owner, V2)

    with bootstrap.connect(v1_database.owner) as conn:
        # every v1 row, every v1 column, the same values
        for table, (columns, rows) in before.items():
            assert snapshot(conn, table, columns) == rows, table

        owners = _account_of_user(conn)
        assert set(owners) == {1, 2, 3, 4}  # one account per user
        assert len(set(owners.values())) == 4
        legacy = conn.execute("SELECT id FROM accounts WHERE slug = 'legacy'").fetchone()
        assert legacy is not None
        slugs = dict(conn.execute("SELECT id, slug FROM accounts").fetchall())
        assert slugs[owners[1]] == "ada-lovelace"
        assert slugs[owners[3]] == "grace-hopper-news"
        assert slugs[owners[4]] == "legacy-4"  # never collides with the legacy account

        for table in sorted(V1_TABLES - GLOBAL_V1_TABLES):
            if table in OWNED_THROUGH_PARENT:
                parent, column = OWNED_THROUGH_PARENT[table]
                misplaced = conn.execute(
                    f"SELECT count(*) FROM {table} t JOIN {parent} p ON p.id = t.{column} "
                    f"WHERE t.account_id <> p.account_id"
                ).fetchone()
                assert misplaced == (0,), table
                continue
            for user_id, account_id in conn.execute(f"SELECT user_id, account_id FROM {table}"):
                expected = owners[user_id] if user_id is not None else legacy[0]
                assert account_id == expected, (table, user_id)

        # brand_settings copied into brand_dna, one per account, and kept
        copied = conn.execute(
            "SELECT b.company_name, b.tagline, b.primary_color, b.secondary_colors, b.keywords "
            "FROM brand_dna b JOIN account_memberships m ON m.account_id = b.account_id "
            "WHERE m.user_id = 1"
        ).fetchone()
        assert copied == (
            "Lovelace Analytics",
            "Numbers that sing",
            "#112233",
            ["#AABBCC"],
            ["analytics", "data"],
        )
        assert conn.execute("SELECT count(*) FROM brand_dna").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM service_pricing").fetchone() == (12,)
        # identities keep counting from where v1 stopped
        new_lead = conn.execute(
            "INSERT INTO leads (account_id, name) VALUES (%s, 'New') RETURNING id", (legacy[0],)
        ).fetchone()
        assert new_lead == (6,)


def test_downgrade_returns_to_v1_whole(v1_database: DatabaseURLs) -> None:
    with bootstrap.connect(v1_database.owner) as conn:
        before = _v1_state(conn)
        constraints_before = _constraints(conn)
    migrations.upgrade(v1_database.owner, V2)
    migrations.downgrade(v1_database.owner, V1)
    with bootstrap.connect(v1_database.owner) as conn:
        assert _v1_state(conn) == before
        assert _constraints(conn) == constraints_before
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT LIKE 'procrastinate%' AND tablename <> 'alembic_version'"
            )
        }
        assert tables == V1_TABLES
    # and up again: the round trip is repeatable
    migrations.upgrade(v1_database.owner, V2)
    assert migrations.current(v1_database.owner) == (V2,)


def _constraints(conn: psycopg.Connection[Any]) -> set[tuple[str, str, str]]:
    """Every constraint and index of the v1 tables, by name and definition."""
    constraints = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = 'public' AND c.conrelid::regclass::text = ANY(%s)",
        (sorted(V1_TABLES),),
    ).fetchall()
    indexes = conn.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = 'public' AND tablename = ANY(%s)",
        (sorted(V1_TABLES),),
    ).fetchall()
    return {tuple(r) for r in (*constraints, *indexes)}
