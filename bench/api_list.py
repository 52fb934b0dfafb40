"""An authenticated, tenant-scoped list request (GET /v1/api-keys?limit=50, a page of 50)
served by `markettina serve` (uvicorn, one process per core by default) to N concurrent
clients on loopback, against SQL run directly by pgbench (prepared, same N) in the same run:

- ``raw_page_tps``: the statement the endpoint runs for the page (PostgreSQL renders the
  JSON body), in a transaction that sets the tenant, as the endpoint's is;
- ``raw_rows_tps``: the same 51 rows selected plainly, the cheaper query a naive endpoint
  would run and then serialise in Python.

Prints one JSON line with both ratios.

    python3 dev.py run python bench/api_list.py [--connections 32] [--seconds 10] [--workers 2]
        [--principal person|api-key]

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.list_harness import measure, page_sql, run_pgbench
from tests.support.checks import sql
from tests.support.databases import SuiteDatabases
from tests.support.identity import new_account, new_key, new_member

from markettina.identity.api_keys import LISTED_PAGE
from markettina.kernel.db.urls import as_libpq_url

LIST_SQL = (
    "SELECT account_id, id, name, prefix, scopes, last_used_at, expires_at, revoked_at, "
    "created_by, created_at, updated_at FROM api_keys "
    "ORDER BY created_at DESC, id DESC LIMIT 51;"
)


def summary(runs: list[dict[str, float]], raw_page: float) -> dict[str, object]:
    def span(name: str) -> list[float]:
        return [min(run[name] for run in runs), max(run[name] for run in runs)]

    return {
        "rps": span("rps"), "p50_ms": span("p50_ms"), "p99_ms": span("p99_ms"),
        "cpu_ms_per_request": span("cpu_ms_per_request"),
        "non_2xx": sum(int(run["non_2xx"]) for run in runs),
        "over_raw_page": [round(r / raw_page, 3) for r in span("rps")],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="API processes")
    parser.add_argument(
        "--principal", choices=("person", "api-key"), default="person",
        help="who calls: a signed-in owner (bearer token) or an API key (X-API-Key)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=2,
        help="times each path is measured, alternated: the read lane, then the routed path",
    )  # fmt: skip
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
            "limit_per_hour, limit_per_day) VALUES (%s, 'api-keys', %s, %s, %s)",
            account, 10**9, 10**9, 10**9,
        )  # fmt: skip
        keys = [new_key(urls, account, ["api_keys:read"]) for _ in range(60)]
        header = f"Authorization: Bearer {owner.token}"
        if args.principal == "api-key":
            header = f"X-API-Key: {keys[0].key}"
        runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        for _ in range(args.rounds):
            for read_lane in (True, False):
                runs[read_lane] += measure(urls, args, header, read_lane)
        conninfo = as_libpq_url(urls.app)
        raw_page = run_pgbench(
            conninfo,
            str(account),
            args.connections,
            args.seconds,
            page_sql(LISTED_PAGE, 50, account_id=str(account)),
        )
        raw_rows = run_pgbench(conninfo, str(account), args.connections, args.seconds, LIST_SQL)
    finally:
        databases.drop_all()

    lane_cpu = [run["cpu_ms_per_request"] for run in runs[True]]
    routed_cpu = [run["cpu_ms_per_request"] for run in runs[False]]
    print(json.dumps({
        "bench": "api_list", "endpoint": "GET /v1/api-keys?limit=50",
        "principal": args.principal, "connections": args.connections, "seconds": args.seconds,
        "api_workers": args.workers, "rounds": args.rounds,
        "read_lane": summary(runs[True], raw_page),
        "routed": summary(runs[False], raw_page),
        # the routed path's API CPU per request over the lane's, each round's pair
        "routed_over_lane_cpu": [
            round(r / max(lane, 1e-9), 2) for lane, r in zip(lane_cpu, routed_cpu, strict=True)
        ],
        "raw_page_tps": round(raw_page, 1),
        "raw_rows_tps": round(raw_rows, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
