"""What row-level security costs: the same tenant-scoped list query (50 newest leads of one
account, 1,000,000 leads over 1,000 accounts) as markettina_app under RLS versus as the
owner with an explicit ``account_id =`` filter. Prints one JSON line.

    python3 dev.py run python bench/rls_cost.py [--rows 1000000] [--accounts 1000] [--runs 2000]

Uses MARKETTINA_TEST_DATABASE_URL when set, else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.databases import SuiteDatabases

from markettina.kernel.db.urls import as_libpq_url

LIST_UNDER_RLS = "SELECT * FROM leads ORDER BY created_at DESC LIMIT 50"
LIST_FILTERED = "SELECT * FROM leads WHERE account_id = %s ORDER BY created_at DESC LIMIT 50"
SET_TENANT = "SELECT set_config('app.current_account_id', %s, true)"


def seed(conn: psycopg.Connection[Any], rows: int, accounts: int) -> list[str]:
    conn.execute(
        "INSERT INTO accounts (name, slug) "
        "SELECT 'Bench ' || i, 'bench-' || i FROM generate_series(1, %s) AS i",
        (accounts,),
    )
    ids = [str(r[0]) for r in conn.execute("SELECT id FROM accounts WHERE slug LIKE 'bench-%'")]
    conn.execute(
        """
        INSERT INTO leads (account_id, name, email, status, score, created_at)
        SELECT a.ids[1 + mod(i, %(n)s)], 'Lead ' || i, 'lead' || i || '@example.com',
               (ARRAY['NEW','CONTACTED','QUALIFIED','WON','LOST'])[1 + mod(i, 5)],
               mod(i, 101), now() - mod(i, 525600) * interval '1 minute'
        FROM generate_series(1, %(rows)s) AS i,
             (SELECT array_agg(id) AS ids FROM accounts WHERE slug LIKE 'bench-%%') AS a
        """,
        {"n": accounts, "rows": rows},
    )
    conn.execute("ANALYZE leads")
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=2_000)
    args = parser.parse_args()

    databases = SuiteDatabases.start()
    try:
        urls = databases.migrated_template()
        with psycopg.connect(as_libpq_url(urls.owner), autocommit=True) as owner:
            started = time.perf_counter()
            accounts = seed(owner, args.rows, args.accounts)
            seed_seconds = time.perf_counter() - started
        chooser = random.Random(7)

        with (
            psycopg.connect(as_libpq_url(urls.app)) as app,
            psycopg.connect(as_libpq_url(urls.owner)) as owner,
        ):

            def under_rls() -> None:
                app.execute(SET_TENANT, (chooser.choice(accounts),))
                started_inner = time.perf_counter()
                rows = app.execute(LIST_UNDER_RLS, prepare=True).fetchall()
                rls_samples.append(time.perf_counter() - started_inner)
                assert len(rows) == 50
                app.rollback()

            def filtered() -> None:
                account = chooser.choice(accounts)
                started_inner = time.perf_counter()
                rows = owner.execute(LIST_FILTERED, (account,), prepare=True).fetchall()
                explicit_samples.append(time.perf_counter() - started_inner)
                assert len(rows) == 50
                owner.rollback()

            rls_samples: list[float] = []
            explicit_samples: list[float] = []
            for _ in range(200):  # warm both paths
                under_rls()
                filtered()
            rls_samples.clear()
            explicit_samples.clear()
            for _ in range(args.runs):  # interleaved, so drift hits both alike
                under_rls()
                filtered()
            app.execute(SET_TENANT, (accounts[0],))
            plan = "\n".join(r[0] for r in app.execute("EXPLAIN " + LIST_UNDER_RLS))
            app.rollback()
    finally:
        databases.drop_all()

    rls_ms = statistics.median(rls_samples) * 1000
    explicit_ms = statistics.median(explicit_samples) * 1000
    print(
        json.dumps(
            {
                "bench": "rls_cost",
                "rows": args.rows,
                "accounts": args.accounts,
                "runs": args.runs,
                "rls_median_ms": round(rls_ms, 4),
                "explicit_filter_median_ms": round(explicit_ms, 4),
                "rls_over_explicit": round(rls_ms / explicit_ms, 3),
                "rls_uses_index": "Index Scan" in plan,
                "seed_seconds": round(seed_seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
