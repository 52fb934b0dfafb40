"""domain_events: monthly partitions that never run out, retention that never loses an
unprocessed event, and the purge of expired idempotency keys."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from markettina.kernel import jobs
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from tests.support.api import api_client, make_app

pytestmark = pytest.mark.migrations


def _months_from_now(months: int) -> dt.datetime:
    today = dt.datetime.now(dt.UTC)
    year, month = divmod(today.month - 1 + months, 12)
    return dt.datetime(today.year + year, month + 1, 15, 12, tzinfo=dt.UTC)


def _partitions(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'domain_events'::regclass"
    )
    return {r[0] for r in rows}


def _account(conn: psycopg.Connection[Any]) -> uuid.UUID:
    slug = f"ev-{uuid.uuid4().hex[:8]}"
    row = conn.execute(
        "INSERT INTO accounts (name, slug) VALUES (%s, %s) RETURNING id", (slug, slug)
    ).fetchone()
    assert row is not None
    return row[0]


def _event(conn: psycopg.Connection[Any], account: uuid.UUID, at: dt.datetime, *,
           processed: bool = False) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO domain_events (account_id, aggregate_type, aggregate_id, aggregate_version, "
        "event_type, event_data, created_at, processed) "
        "VALUES (%s, 'lead', '1', 1, 'lead.created', '{}', %s, %s)",
        (account, at, processed),
    )


def _name(at: dt.datetime) -> str:
    return f"domain_events_{at:%Y_%m}"


def test_this_month_and_three_ahead_are_partitioned(fresh_db: DatabaseURLs) -> None:
    with bootstrap.connect(fresh_db.owner) as conn:
        partitions = _partitions(conn)
    expected = {_name(_months_from_now(m)) for m in range(4)}
    assert expected <= partitions
    assert "domain_events_default" in partitions


def test_every_partition_is_isolated_and_closed_to_the_app(fresh_db: DatabaseURLs) -> None:
    with bootstrap.connect(fresh_db.owner) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "has_table_privilege('markettina_app', c.oid, 'SELECT'), "
            "EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'domain_events'::regclass"
        ).fetchall()
    assert rows and all(r[1:] == (True, True, False, True) for r in rows), rows


async def test_an_event_two_years_ahead_is_stored_and_reported(fresh_db: DatabaseURLs) -> None:
    far = _months_from_now(24)
    with bootstrap.connect(fresh_db.owner) as conn:
        account = _account(conn)
    with bootstrap.connect(fresh_db.app, autocommit=False) as app:
        app.execute("SELECT set_config('app.current_account_id', %s, true)", (str(account),))
        _event(app, account, far)
        app.commit()
    with bootstrap.connect(fresh_db.owner) as conn:
        assert conn.execute("SELECT count(*) FROM domain_events_default").fetchone() == (1,)

    async with api_client(make_app(fresh_db)) as http:
        response: httpx.Response = await http.get("/readyz")
    assert response.status_code == 200, response.text  # worth a look, not a reason to stop serving
    assert response.json()["warnings"]["events_outside_partitions"]["count"] == 1

    # once its month is partitioned, the event moves out of the DEFAULT partition
    with bootstrap.connect(fresh_db.owner) as conn:
        created = conn.execute("SELECT * FROM ensure_domain_event_partitions(24)").fetchall()
        assert (_name(far),) in created
        assert conn.execute("SELECT count(*) FROM domain_events_default").fetchone() == (0,)
        assert conn.execute(f"SELECT count(*) FROM {_name(far)}").fetchone() == (1,)


def test_retention_drops_processed_months_and_keeps_unprocessed_ones(
    fresh_db: DatabaseURLs,
) -> None:
    done, pending, recent = _months_from_now(-9), _months_from_now(-8), _months_from_now(-2)
    with bootstrap.connect(fresh_db.owner) as conn:
        account = _account(conn)
        for month in (done, pending, recent):
            conn.execute("SELECT create_domain_event_partition(%s)", (month.date(),))
        _event(conn, account, done, processed=True)
        _event(conn, account, pending, processed=True)
        _event(conn, account, pending, processed=False)
        _event(conn, account, recent, processed=True)

        dropped = conn.execute("SELECT * FROM drop_expired_domain_event_partitions(6)").fetchall()

        assert dropped == [(_name(done),)]
        partitions = _partitions(conn)
        assert _name(done) not in partitions
        assert {_name(pending), _name(recent)} <= partitions
        assert conn.execute("SELECT count(*) FROM domain_events").fetchone() == (3,)


async def test_daily_jobs_keep_partitions_and_purge_idempotency_keys(
    fresh_db: DatabaseURLs,
) -> None:
    with bootstrap.connect(fresh_db.owner) as conn:
        account = _account(conn)
        conn.execute(f"DROP TABLE {_name(_months_from_now(3))}")
        conn.execute(
            "INSERT INTO idempotency_keys (account_id, key, endpoint, created_at, expires_at) "
            "VALUES (%s, 'old', 'POST /v1/x', now() - interval '2 days', now() - interval '1 day'),"
            "       (%s, 'live', 'POST /v1/x', now(), now() + interval '1 day')",
            (account, account),
        )
    jobs.configure_maintenance(as_libpq_url(fresh_db.owner))
    result = await jobs.maintain_event_partitions(timestamp=0)
    assert result["created"] == [_name(_months_from_now(3))]
    assert await jobs.purge_idempotency_keys(timestamp=0) == 1
    with bootstrap.connect(fresh_db.owner) as conn:
        assert conn.execute("SELECT key FROM idempotency_keys").fetchall() == [("live",)]


def test_the_app_cannot_run_maintenance(fresh_db: DatabaseURLs) -> None:
    with bootstrap.connect(fresh_db.app) as app:
        for call in (
            "SELECT ensure_domain_event_partitions(3)",
            "SELECT drop_expired_domain_event_partitions(0)",
            "SELECT purge_expired_idempotency_keys()",
            "SELECT count(*) FROM domain_events_default",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(call)
        assert app.execute("SELECT domain_events_outside_partitions()").fetchone() == (0,)
