"""Revision 0001: the v1 tables, the job queue and the app's privileges, with a clean downgrade."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from markettina.kernel.db import bootstrap, migrations
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.databases import SuiteDatabases

pytestmark = pytest.mark.migrations

# the existing (v1) tables of schema.md
V1_TABLES = {
    "users", "admin_users", "admin_sessions", "admin_audit_logs", "oauth_tokens",
    "leads", "email_campaigns", "scheduled_posts", "editorial_calendars", "brand_settings",
    "customers", "customer_notes", "customer_interactions",
    "token_wallets", "token_transactions", "token_packages", "subscriptions", "payments",
    "usage_records", "analytics_events",
}  # fmt: skip
JOB_QUEUE_TABLES = {
    "procrastinate_jobs", "procrastinate_events", "procrastinate_periodic_defers",
    "procrastinate_workers",
}  # fmt: skip


def _tables(urls: DatabaseURLs) -> set[str]:
    with bootstrap.connect(urls.owner) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        )
        return {r[0] for r in rows}


def _objects_left(urls: DatabaseURLs) -> dict[str, int]:
    """Functions, types and sequences in schema public (none may survive a downgrade)."""
    with bootstrap.connect(urls.owner) as conn:
        functions = conn.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e' "
            "WHERE n.nspname = 'public' AND d.objid IS NULL"
        ).fetchone()
        types = conn.execute(
            "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "LEFT JOIN pg_depend d ON d.objid = t.oid AND d.deptype = 'e' "
            "WHERE n.nspname = 'public' AND d.objid IS NULL AND t.typname NOT LIKE '\\_%' "
            "AND t.typname <> 'alembic_version'"
        ).fetchone()
        assert functions is not None and types is not None
        return {"functions": functions[0], "types": types[0]}


@pytest.fixture
def empty_db(databases: SuiteDatabases):  # type: ignore[no-untyped-def]
    urls = databases.empty("baseline")
    yield urls
    databases.drop(urls)


def test_upgrade_creates_every_v1_table_and_the_job_queue(empty_db: DatabaseURLs) -> None:
    migrations.upgrade(empty_db.owner, "0001_v1_baseline")
    assert _tables(empty_db) == V1_TABLES | JOB_QUEUE_TABLES | {"alembic_version"}


def test_downgrade_to_base_removes_everything_and_round_trips(empty_db: DatabaseURLs) -> None:
    migrations.upgrade(empty_db.owner, "head")
    for _ in range(2):
        migrations.downgrade(empty_db.owner, "base")
        assert _tables(empty_db) == {"alembic_version"}
        assert _objects_left(empty_db) == {"functions": 0, "types": 0}
        assert migrations.current(empty_db.owner) == ()
        migrations.upgrade(empty_db.owner, "head")
        assert migrations.current(empty_db.owner) == migrations.heads()


def test_app_role_writes_v1_rows_and_constraints_hold(empty_db: DatabaseURLs) -> None:
    migrations.upgrade(empty_db.owner, "0001_v1_baseline")
    with bootstrap.connect(empty_db.app) as conn:
        user_id = conn.execute(
            "INSERT INTO users (email, full_name) VALUES ('Ada@Example.com', 'Ada') RETURNING id"
        ).fetchone()[0]
        assert isinstance(user_id, int)
        conn.execute(
            "INSERT INTO leads (user_id, name, email, status, score) "
            "VALUES (%s, 'Bob', 'bob@example.com', 'QUALIFIED', 70)",
            (user_id,),
        )
        wallet_id = conn.execute(
            "INSERT INTO token_wallets (user_id, balance) VALUES (%s, 10) RETURNING id", (user_id,)
        ).fetchone()[0]
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO users (email) VALUES ('ada@example.COM')")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE token_wallets SET balance = -1 WHERE id = %s", (wallet_id,))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO leads (name, score) VALUES ('Eve', 101)")


def test_a_failing_revision_leaves_the_previous_revision_whole(
    empty_db: DatabaseURLs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "migrations"
    shutil.copytree(migrations.migrations_dir(), tree)
    heads = migrations.heads()
    (tree / "versions" / "9999_broken.py").write_text(
        "from alembic import op\n"
        "revision = '9999_broken'\n"
        f"down_revision = {heads[0]!r}\n"
        "branch_labels = None\n"
        "depends_on = None\n"
        "def upgrade():\n"
        "    op.execute('CREATE TABLE half_done (id int)')\n"
        "    op.execute('SELECT 1/0')\n"
        "def downgrade():\n"
        "    pass\n"
    )
    migrations.upgrade(empty_db.owner, "head")
    before = _tables(empty_db)
    monkeypatch.setattr(migrations, "migrations_dir", lambda: tree)
    with pytest.raises(migrations.MigrationError, match="division by zero"):
        migrations.upgrade(empty_db.owner, "head")
    # transactional DDL: nothing of the failed run survived
    assert migrations.current(empty_db.owner) == heads
    assert _tables(empty_db) == before
