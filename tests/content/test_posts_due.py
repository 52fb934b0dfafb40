"""The publisher's due posts: claimed once (rows held elsewhere skipped), at most so many
per account, round-robin across accounts; and the claim's plan at a million posts."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

import psycopg
import pytest

from markettina.content.post_publishing import claim_due_posts
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from tests.support.checks import sql
from tests.support.identity import new_account

NOW = dt.datetime.now(dt.UTC)


def scheduled_post(
    urls: DatabaseURLs, account_id: uuid.UUID, minutes: float, status: str = "scheduled"
) -> int:
    (row,) = sql(
        urls,
        "INSERT INTO scheduled_posts (account_id, content, status, scheduled_at) "
        "VALUES (%s, 'p', %s, %s) RETURNING id",
        account_id, status, NOW + dt.timedelta(minutes=minutes),
    )  # fmt: skip
    return int(row[0])


def statuses(urls: DatabaseURLs, posts: list[int]) -> list[str]:
    return [
        sql(urls, "SELECT status FROM scheduled_posts WHERE id = %s", post)[0][0] for post in posts
    ]


async def claim(urls: DatabaseURLs, **limits: int) -> set[tuple[uuid.UUID, int]]:
    async with await psycopg.AsyncConnection.connect(
        as_libpq_url(urls.owner), autocommit=True
    ) as owner:
        return {(due.account_id, due.post_id) for due in await claim_due_posts(owner, **limits)}


class TestClaim:
    async def test_round_robin_capped_per_account_skipping_what_is_not_due(
        self, fresh_db: DatabaseURLs
    ) -> None:
        busy, quiet, later = new_account(fresh_db), new_account(fresh_db), new_account(fresh_db)
        b1, b2, b3 = (scheduled_post(fresh_db, busy, -m) for m in (30, 20, 10))
        q1 = scheduled_post(fresh_db, quiet, -5)
        scheduled_post(fresh_db, later, 60)  # not due yet
        draft = scheduled_post(fresh_db, busy, -40, "draft")
        gone = scheduled_post(fresh_db, busy, -50)
        sql(fresh_db, "UPDATE scheduled_posts SET deleted_at = now() WHERE id = %s", gone)

        # every account's first before anyone's second: quiet's one before busy's second
        assert await claim(fresh_db, per_account=2, batch=2) == {(busy, b1), (quiet, q1)}
        assert statuses(fresh_db, [b1, q1, b2, b3, draft]) == [
            "publishing", "publishing", "scheduled", "scheduled", "draft",
        ]  # fmt: skip
        # at most per_account of one account, and each post claimed once
        assert await claim(fresh_db, per_account=1, batch=10) == {(busy, b2)}
        assert await claim(fresh_db) == {(busy, b3)}
        assert await claim(fresh_db) == set()

    async def test_rows_held_by_another_transaction_are_skipped(
        self, fresh_db: DatabaseURLs
    ) -> None:
        account = new_account(fresh_db)
        held, free = scheduled_post(fresh_db, account, -10), scheduled_post(fresh_db, account, -5)
        with psycopg.connect(as_libpq_url(fresh_db.owner)) as editor:
            editor.execute("SELECT 1 FROM scheduled_posts WHERE id = %s FOR UPDATE", (held,))
            assert await claim(fresh_db) == {(account, free)}
        assert await claim(fresh_db) == {(account, held)}

    async def test_only_the_owner_may_claim(self, fresh_db: DatabaseURLs) -> None:
        with (
            psycopg.connect(as_libpq_url(fresh_db.app)) as app,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            app.execute("SELECT * FROM claim_due_posts(1, 1)")


# the indexes a claim could use stay: the primary key, the due index, (status,
# scheduled_at), (account_id, scheduled_at) and (account_id, status, created_at)
DROP_FOR_THE_LOAD = """
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conrelid::regclass AS owner, conname FROM pg_constraint
             WHERE contype = 'f' AND 'scheduled_posts'::regclass IN (conrelid, confrelid) LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.owner, c.conname);
    END LOOP;
    ALTER TABLE scheduled_posts DROP COLUMN search_vector;
    ALTER TABLE scheduled_posts SET UNLOGGED;
    DROP INDEX ix_scheduled_posts_user_id, ix_scheduled_posts_created_by,
        ix_scheduled_posts_deleted_by, ix_scheduled_posts_account_id_campaign_id,
        ix_scheduled_posts_account_id_created_at_id, ix_scheduled_posts_hashtags;
END $$;
"""


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


class TestClaimPlan:
    def test_a_million_posts_are_claimed_through_the_due_index(
        self, fresh_db: DatabaseURLs
    ) -> None:
        """1,000 accounts, 1,000,000 posts (1% scheduled, half of those due): the claim's
        statement (the function's own text) probes the partial index per account and never
        scans the table."""
        started = time.monotonic()
        with psycopg.connect(as_libpq_url(fresh_db.owner)) as owner:  # one transaction, undone
            owner.execute("SET LOCAL synchronous_commit = off")
            # what the claim's plan cannot use only slows the million inserts down: the
            # references' per-row checks, the search column, the other lists' indexes and
            # the write-ahead log (the table is unlogged until the rollback)
            owner.execute(DROP_FOR_THE_LOAD)
            owner.execute(
                "INSERT INTO accounts (name, slug) "
                "SELECT 'plan ' || g, 'plan-' || g FROM generate_series(1, 1000) g"
            )
            owner.execute(
                "INSERT INTO scheduled_posts (account_id, content, status, scheduled_at) "
                "SELECT a.ids[1 + g % 1000], 'p', "
                "CASE WHEN g % 100 = 0 THEN 'scheduled' ELSE 'published' END, "
                "now() + (CASE WHEN g % 200 = 0 THEN -1 ELSE 1 END) * (g % 5000) "
                "* interval '1 minute' "
                "FROM generate_series(1, 1000000) g, "
                "(SELECT array_agg(id) AS ids FROM accounts WHERE slug LIKE 'plan-%') a"
            )
            owner.execute("ANALYZE scheduled_posts")
            (source,) = owner.execute(
                "SELECT prosrc FROM pg_proc WHERE proname = 'claim_due_posts'"
            ).fetchone()  # type: ignore[misc]
            owner.execute(f"PREPARE claim(integer, integer) AS {source}")
            (plan,) = owner.execute("EXPLAIN (FORMAT JSON) EXECUTE claim(10, 200)").fetchone()  # type: ignore[misc]
            owner.rollback()
        nodes = _nodes((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
        scans = {(n["Node Type"], n.get("Index Name")) for n in nodes
                 if n.get("Relation Name") == "scheduled_posts"}  # fmt: skip
        assert not any(kind == "Seq Scan" for kind, _ in scans), scans
        assert any(index == "ix_scheduled_posts_due" for _, index in scans), scans
        print(f"claim plan at 1M posts: {time.monotonic() - started:.1f} s; {sorted(scans)}")
