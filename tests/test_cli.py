"""The CLI's contract with scripts: one-line errors and stable exit codes."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from markettina import cli
from markettina.kernel.db import migrations
from markettina.kernel.db.urls import DatabaseURLs
from markettina.settings import get_settings
from tests.support.databases import SuiteDatabases


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    runner = CliRunner()

    def invoke(*args: str, database: DatabaseURLs | None = None, url: str | None = None):
        if database is not None:
            url = database.admin.set(drivername="postgresql").render_as_string(hide_password=False)
        if url is not None:
            monkeypatch.setenv("MARKETTINA_DATABASE_URL", url)
        get_settings.cache_clear()
        return runner.invoke(cli.app, list(args))

    yield invoke
    get_settings.cache_clear()


def test_migrate_current_at_head(run, fresh_db: DatabaseURLs) -> None:
    result = run("migrate", "current", database=fresh_db)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ", ".join(migrations.heads())


def test_migrate_current_behind_head_exits_4(run, databases: SuiteDatabases) -> None:
    urls = databases.empty("behind")
    try:
        result = run("migrate", "current", database=urls)
    finally:
        databases.drop(urls)
    assert result.exit_code == cli.EXIT_MIGRATION
    assert result.stdout.strip() == "base"


def test_downgrade_base_then_upgrade_head_round_trips(run, fresh_db: DatabaseURLs) -> None:
    down = run("migrate", "downgrade", "base", database=fresh_db)
    assert down.exit_code == 0, down.output
    assert migrations.current(fresh_db.owner) == ()
    up = run("migrate", "upgrade", database=fresh_db)
    assert up.exit_code == 0, up.output
    assert migrations.current(fresh_db.owner) == migrations.heads()


def test_unknown_revision_is_a_migration_failure(run, fresh_db: DatabaseURLs) -> None:
    result = run("migrate", "upgrade", "no_such_revision", database=fresh_db)
    assert result.exit_code == cli.EXIT_MIGRATION
    assert "error:" in result.output and "Traceback" not in result.output
    assert migrations.current(fresh_db.owner) == migrations.heads()


def test_history_lists_the_baseline(run) -> None:
    result = run("migrate", "history")
    assert result.exit_code == 0
    assert "0001_v1_baseline" in result.stdout


def test_unreachable_database_exits_3_with_one_line(run) -> None:
    result = run("migrate", "current", url="postgresql://postgres@127.0.0.1:1/markettina")
    assert result.exit_code == cli.EXIT_DATABASE
    assert "error: cannot connect to postgresql://postgres@127.0.0.1:1/" in result.output
    assert "Traceback" not in result.output


def test_malformed_url_exits_3(run) -> None:
    result = run("db", "url", url="mysql://root@localhost/x")
    assert result.exit_code == cli.EXIT_DATABASE
    assert "not a PostgreSQL URL" in result.output


def test_serve_refuses_a_port_in_use(run, fresh_db: DatabaseURLs) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), database=fresh_db)
    assert result.exit_code == cli.EXIT_PORT_IN_USE
    assert f"port {port} on 127.0.0.1 is already in use" in result.output


def test_db_url_prints_the_app_role_url(run, fresh_db: DatabaseURLs) -> None:
    result = run("db", "url", database=fresh_db)
    assert result.exit_code == 0
    assert result.stdout.startswith("postgresql://markettina_app")
    assert fresh_db.database in result.stdout


def test_db_url_rejects_unknown_role(run, fresh_db: DatabaseURLs) -> None:
    result = run("db", "url", "--role", "root", database=fresh_db)
    assert result.exit_code == 2


def test_db_status_shows_revisions(run, fresh_db: DatabaseURLs) -> None:
    result = run("db", "status", database=fresh_db)
    assert result.exit_code == 0
    assert "external" in result.stdout and migrations.heads()[0] in result.stdout


def test_db_stop_has_nothing_to_stop_on_an_external_server(run, fresh_db: DatabaseURLs) -> None:
    result = run("db", "stop", database=fresh_db)
    assert result.exit_code == 2
    assert "nothing to stop" in result.output


def test_db_reset_needs_confirmation(run, fresh_db: DatabaseURLs) -> None:
    result = run("db", "reset", database=fresh_db)
    assert result.exit_code == cli.EXIT_CANCELLED
    assert migrations.current(fresh_db.owner) == migrations.heads()


def test_db_reset_with_yes_recreates_at_head(run, fresh_db: DatabaseURLs) -> None:
    from markettina.kernel.db import bootstrap

    with bootstrap.connect(fresh_db.owner) as conn:
        conn.execute("CREATE TABLE scratch_marker (id int)")
    result = run("db", "reset", "--yes", database=fresh_db)
    assert result.exit_code == 0, result.output
    with bootstrap.connect(fresh_db.owner) as conn:
        gone = conn.execute("SELECT to_regclass('scratch_marker')").fetchone()
    assert gone == (None,)
    assert migrations.current(fresh_db.owner) == migrations.heads()


def test_db_stats_counts_the_seed_figures_from_the_catalog(run, fresh_db: DatabaseURLs) -> None:
    import json

    from markettina.kernel.db import bootstrap
    from markettina.schema import V1_TABLES, metadata

    result = run("db", "stats", "--json", database=fresh_db)
    assert result.exit_code == 0, result.output
    stats = {row["metric"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert stats["bounded contexts"]["count"] == 9
    assert stats["new tables"]["count"] == len(set(metadata.tables) - V1_TABLES) >= 45
    tenant_tables = [t for t in metadata.tables.values() if "account_id" in t.c]
    with bootstrap.connect(fresh_db.owner) as conn:
        partitions = conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'domain_events'::regclass"
        ).fetchone()[0]
    # one policy per tenant table and one per partition of domain_events, and feature_flags'
    # two more for its global defaults (read by all, written in a staff transaction), and
    # content_templates' public_templates_read (public templates, read by every account)
    assert stats["RLS policies"]["count"] == len(tenant_tables) + partitions + 3
    assert stats["materialized views"]["count"] == 6
    assert stats["trigger families"]["count"] >= 5
    assert stats["indexes"]["count"] >= 80
    assert stats["indexes"]["met"] and stats["new tables"]["met"]
    assert {row["floor"] for row in stats.values()} == {9, 45, 6, 80, 5, 10}


def test_db_stats_table(run, fresh_db: DatabaseURLs) -> None:
    result = run("db", "stats", database=fresh_db)
    assert result.exit_code == 0
    assert "bounded contexts" in result.stdout and "seed promises" in result.stdout


def test_views_refresh_reports_every_read_model(run, fresh_db: DatabaseURLs) -> None:
    import json

    result = run("views", "refresh", "--json", database=fresh_db)
    assert result.exit_code == 0, result.output
    refreshed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["view"] for r in refreshed] == [
        "mv_dashboard_kpis", "mv_social_performance", "mv_lead_funnel",
        "mv_content_performance", "mv_ai_usage", "mv_competitor_comparison",
    ]  # fmt: skip
    assert all(r["duration_ms"] >= 0 for r in refreshed)


def test_views_refresh_says_when_another_refresh_runs(run, fresh_db: DatabaseURLs) -> None:
    from markettina.analytics.read_models import REFRESH_LOCK_KEY
    from markettina.kernel.db import bootstrap

    with bootstrap.connect(fresh_db.owner, autocommit=False) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (REFRESH_LOCK_KEY,))
        result = run("views", "refresh", database=fresh_db)
    assert result.exit_code == cli.EXIT_BUSY
    assert "another refresh is running" in result.output


def test_staff_create_prints_the_enrolment_uri_once(
    run, fresh_db: DatabaseURLs, monkeypatch
) -> None:
    monkeypatch.setenv("MARKETTINA_STAFF_PASSWORD", "a-long-staff-password")
    monkeypatch.setenv("MARKETTINA_SECRET_KEY", "k" * 48)
    monkeypatch.setenv(
        "MARKETTINA_ENCRYPTION_KEYS", '["PzM2Y2E4ZjEtZmFrZS1rZXktZm9yLXRlc3RzLW9ubHk="]'
    )
    result = run("staff", "create", "--email", "ops@example.com", database=fresh_db)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("otpauth://totp/")
    again = run("staff", "create", "--email", "OPS@example.com", database=fresh_db)
    assert again.exit_code == cli.EXIT_USAGE


def test_staff_reset_mfa_replaces_the_secret_and_ends_the_sessions(
    run, fresh_db: DatabaseURLs, monkeypatch
) -> None:
    from markettina.kernel.db import bootstrap

    monkeypatch.setenv("MARKETTINA_STAFF_PASSWORD", "a-long-staff-password")
    monkeypatch.setenv("MARKETTINA_SECRET_KEY", "k" * 48)
    monkeypatch.setenv(
        "MARKETTINA_ENCRYPTION_KEYS", '["PzM2Y2E4ZjEtZmFrZS1rZXktZm9yLXRlc3RzLW9ubHk="]'
    )
    created = run("staff", "create", "--email", "lost@example.com", database=fresh_db)
    assert created.exit_code == 0, created.output
    with bootstrap.connect(fresh_db.owner) as conn:
        conn.execute(
            "INSERT INTO admin_sessions (admin_user_id, token_hash, expires_at) SELECT id, "
            "'digest', now() + interval '1 hour' FROM admin_users WHERE email = 'lost@example.com'"
        )
    reset = run("staff", "reset-mfa", "--email", "LOST@example.com", database=fresh_db)
    assert reset.exit_code == 0, reset.output
    assert reset.stdout.startswith("otpauth://totp/")
    assert reset.stdout.split("secret=")[1][:16] != created.stdout.split("secret=")[1][:16]
    with bootstrap.connect(fresh_db.owner) as conn:
        live = conn.execute("SELECT count(*) FROM admin_sessions WHERE revoked_at IS NULL")
        assert live.fetchone() == (0,)
        [(details,)] = conn.execute(
            "SELECT details FROM admin_audit_logs WHERE action = 'staff.mfa_reset'"
        ).fetchall()
        assert details == {"sessions_ended": 1}
    unknown = run("staff", "reset-mfa", "--email", "nobody@example.com", database=fresh_db)
    assert unknown.exit_code == cli.EXIT_USAGE
    assert "no staff member" in unknown.output


def test_secrets_rotate_reencrypts_social_tokens(run, fresh_db: DatabaseURLs, monkeypatch) -> None:
    from markettina.kernel.db import bootstrap
    from markettina.kernel.security import SecretBox

    old, new = SecretBox.new_key(), SecretBox.new_key()
    with bootstrap.connect(fresh_db.owner) as conn:
        account = conn.execute(
            "INSERT INTO accounts (name, slug) VALUES ('R', 'r') RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO social_accounts (account_id, platform, platform_user_id, "
            "access_token_encrypted) VALUES (%s, 'fakebook', 'u1', %s)",
            (account, SecretBox([old]).encrypt("token-1")),
        )
    monkeypatch.setenv("MARKETTINA_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("MARKETTINA_ENCRYPTION_KEYS", f'["{new}", "{old}"]')
    result = run("secrets", "rotate", database=fresh_db)
    assert result.exit_code == 0, result.output
    with bootstrap.connect(fresh_db.owner) as conn:
        (stored,) = conn.execute("SELECT access_token_encrypted FROM social_accounts").fetchone()
    assert SecretBox([new]).decrypt(stored) == "token-1"
