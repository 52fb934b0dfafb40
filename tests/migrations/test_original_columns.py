"""Revision 0022 on a database that holds data: the original v2 columns are back under
their names, rows keep their values, rate limiting keeps its windows across the rename, and
the downgrade returns to the names and the function of 0014."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from markettina.kernel.db import bootstrap, migrations
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.databases import SuiteDatabases

pytestmark = pytest.mark.migrations

BEFORE = "0021_price_periods_exclusive"
AFTER = "0022_original_columns"
GRANTED_AT = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
DEFAULTS = json.dumps({"free": [5, 100, 1000]})
ORIGINAL = {
    ("user_permissions", "created_at"),
    ("promo_codes", "created_by"),
    ("image_generations", "created_by"),
    ("video_generations", "created_by"),
    ("api_rate_limits", "reset_minute_at"),
    ("api_rate_limits", "reset_hour_at"),
    ("api_rate_limits", "reset_day_at"),
}
RENAMED = {
    ("api_rate_limits", "minute_reset_at"),
    ("api_rate_limits", "hour_reset_at"),
    ("api_rate_limits", "day_reset_at"),
}


@pytest.fixture
def database(databases: SuiteDatabases) -> Iterator[DatabaseURLs]:
    urls = databases.empty("original_columns")
    migrations.upgrade(urls.owner, BEFORE)
    yield urls
    databases.drop(urls)


def _columns(conn: psycopg.Connection[Any]) -> set[tuple[str, str]]:
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = ANY(%s)",
        (sorted({table for table, _ in ORIGINAL}),),
    ).fetchall()
    return {(table, column) for table, column in rows}


def _take(conn: psycopg.Connection[Any], account: Any, requests: int) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT granted, minute_used, hour_used, day_used"
        " FROM rate_limit_take(%s, 'posts', %s, %s)",
        (account, DEFAULTS, requests),
    ).fetchone()
    assert row is not None
    return tuple(row)


def _load(conn: psycopg.Connection[Any]) -> tuple[Any, int]:
    (user,) = (
        conn.execute(
            "INSERT INTO users (email, full_name) VALUES ('ada@example.com', 'Ada') RETURNING id"
        ).fetchone()
        or ()
    )
    (account,) = (
        conn.execute(
            "INSERT INTO accounts (name, slug) VALUES ('Ada', 'ada') RETURNING id"
        ).fetchone()
        or ()
    )
    conn.execute(
        "INSERT INTO user_permissions (account_id, user_id, resource_type, permission,"
        " granted_at) VALUES (%s, %s, 'campaign', 'edit', %s)",
        (account, user, GRANTED_AT),
    )
    conn.execute(
        "INSERT INTO promo_codes (code, discount_type, discount_value)"
        " VALUES ('WELCOME', 'percent', 10)"
    )
    return account, user


def test_upgrade_restores_the_original_columns_and_keeps_the_data(
    database: DatabaseURLs,
) -> None:
    with bootstrap.connect(database.owner) as conn:
        assert not ORIGINAL & _columns(conn)
        account, user = _load(conn)
        assert _take(conn, account, 3) == (3, 3, 3, 3)

    migrations.upgrade(database.owner, AFTER)

    with bootstrap.connect(database.owner) as conn:
        columns = _columns(conn)
        assert columns >= ORIGINAL and not RENAMED & columns
        assert conn.execute("SELECT created_at FROM user_permissions").fetchall() == [(GRANTED_AT,)]
        # the current windows survive the rename: two more fit in the minute's five
        assert _take(conn, account, 4) == (2, 5, 5, 5)
        windows = conn.execute(
            "SELECT reset_minute_at > now(), reset_hour_at > now(), reset_day_at > now()"
            " FROM api_rate_limits"
        ).fetchall()
        assert windows == [(True, True, True)]
        conn.execute("UPDATE promo_codes SET created_by = %s", (user,))
        conn.execute("DELETE FROM users WHERE id = %s", (user,))
        assert conn.execute("SELECT created_by FROM promo_codes").fetchall() == [(None,)]


def test_downgrade_returns_to_0021(database: DatabaseURLs) -> None:
    with bootstrap.connect(database.owner) as conn:
        account, _ = _load(conn)
    migrations.upgrade(database.owner, AFTER)
    with bootstrap.connect(database.owner) as conn:
        assert _take(conn, account, 1) == (1, 1, 1, 1)

    migrations.downgrade(database.owner, BEFORE)

    with bootstrap.connect(database.owner) as conn:
        columns = _columns(conn)
        assert columns >= RENAMED and not ORIGINAL & columns
        assert _take(conn, account, 1) == (1, 2, 2, 2)
    migrations.upgrade(database.owner, AFTER)
    assert migrations.current(database.owner) == (AFTER,)
