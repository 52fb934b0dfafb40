"""The posts list of an account with 100,000 posts (GET /v1/posts?limit=50), served by
`markettina serve` to N concurrent clients on loopback, against its own page statement run
directly by pgbench (prepared, same N, in a transaction that sets the tenant, as the
endpoint's is), both in the same run:

- ``page_1`` and ``page_2000`` (the last page, after 1,999 cursors): keyset pages stay
  flat, so ``page_2000_over_page_1`` (throughput) should stay within 1.2x, by SQL and
  through the API;
- ``api_over_sql``: the API's requests per second over the SQL's transactions per second,
  page 1 (target at least 0.15, with p99 under 50 ms at 16 connections).

Prints one JSON line.

    python3 dev.py run python bench/posts_list.py [--connections 16] [--seconds 10]
        [--workers 2] [--read-lane on|off]

Needs wrk (Debian: `apt-get install wrk`). Uses MARKETTINA_TEST_DATABASE_URL when set,
else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.list_harness import measure, page_sql, run_pgbench
from tests.support.checks import sql
from tests.support.databases import SuiteDatabases
from tests.support.identity import new_account, new_member

from markettina.content.post_listing import LISTED_PAGE
from markettina.kernel.db.urls import as_libpq_url
from markettina.kernel.pagination import encode_cursor

POSTS = 100_000
LIMIT = 50
LAST_PAGE = POSTS // LIMIT  # 2,000


def _load(urls: object, account: object, user_id: int) -> str:
    """The account's posts, one a second back from now (with hashtags, some scheduled), and
    the cursor that opens the last page."""
    sql(
        urls,  # type: ignore[arg-type]
        "INSERT INTO scheduled_posts (account_id, user_id, created_by, content, hashtags, "
        "status, scheduled_at, timezone, created_at, updated_at) "
        "SELECT %s, %s, %s, 'Post numero ' || g || ': le novità della settimana', "
        "ARRAY['settimana', 'n' || (g %% 10)], "
        "CASE WHEN g %% 4 = 0 THEN 'scheduled' ELSE 'draft' END, "
        "CASE WHEN g %% 4 = 0 THEN now() + g * interval '1 minute' END, "
        "CASE WHEN g %% 4 = 0 THEN 'Europe/Rome' END, "
        "now() - g * interval '1 second', now() - g * interval '1 second' "
        "FROM generate_series(1, %s) g",
        account, user_id, user_id, POSTS,
    )  # fmt: skip
    sql(urls, "ANALYZE scheduled_posts")  # type: ignore[arg-type]
    ((at, post_id),) = sql(
        urls,  # type: ignore[arg-type]
        "SELECT created_at, id FROM scheduled_posts WHERE account_id = %s "
        "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
        account, (LAST_PAGE - 1) * LIMIT - 1,
    )  # fmt: skip
    return encode_cursor(at.isoformat(), post_id)


def _number(value: object) -> float:
    assert isinstance(value, float | int)
    return float(value)


def _best(runs: list[dict[str, float]]) -> dict[str, object]:
    """The round with the most requests per second, and every round's rps."""
    best: dict[str, object] = dict(max(runs, key=lambda run: run["rps"]))
    best["rps_rounds"] = [run["rps"] for run in runs]
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="API processes")
    parser.add_argument("--read-lane", choices=("on", "off"), default="on")
    parser.add_argument("--rounds", type=int, default=2, help="times each page is measured")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    databases = SuiteDatabases.start()
    try:
        urls = databases.migrated_template()
        account = new_account(urls)
        owner = new_member(urls, account, "owner")
        # every request is counted against the rate limit; far above what the run can send
        sql(
            urls,
            "INSERT INTO api_rate_limits (account_id, endpoint, limit_per_minute, "
            "limit_per_hour, limit_per_day) VALUES (%s, 'posts', %s, %s, %s)",
            account, 10**9, 10**9, 10**9,
        )  # fmt: skip
        last_cursor = _load(urls, account, owner.user_id)
        header = f"Authorization: Bearer {owner.token}"
        pages = (f"/v1/posts?limit={LIMIT}",
                 f"/v1/posts?limit={LIMIT}&cursor={quote(last_cursor)}")  # fmt: skip
        # alternated, so a busy moment of the machine does not fall on one page only
        runs = measure(urls, args, header, args.read_lane == "on", paths=pages * args.rounds)
        first_api, last_api = (_best(runs[page :: len(pages)]) for page in range(len(pages)))
        conninfo = as_libpq_url(urls.app)
        first_sql, last_sql = (
            run_pgbench(
                conninfo, str(account), args.connections, args.seconds,
                page_sql(LISTED_PAGE, LIMIT, cursor, account_id=str(account)),
            )
            for cursor in (None, last_cursor)
        )  # fmt: skip
    finally:
        databases.drop_all()

    print(json.dumps({
        "bench": "posts_list", "endpoint": f"GET /v1/posts?limit={LIMIT}", "posts": POSTS,
        "connections": args.connections, "seconds": args.seconds, "api_workers": args.workers,
        "read_lane": args.read_lane,
        "page_1": {"api": first_api, "sql_tps": round(first_sql, 1)},
        f"page_{LAST_PAGE}": {"api": last_api, "sql_tps": round(last_sql, 1)},
        f"page_{LAST_PAGE}_over_page_1": {
            "sql_tps": round(last_sql / first_sql, 3),
            "api_rps": round(_number(last_api["rps"]) / _number(first_api["rps"]), 3),
            "api_p50": round(_number(last_api["p50_ms"]) / _number(first_api["p50_ms"]), 3),
        },
        "api_over_sql": round(_number(first_api["rps"]) / first_sql, 3),
        "p99_ms": first_api["p99_ms"],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
