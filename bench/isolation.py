"""How much one test's isolation costs: a fresh clone of the migrated template database
versus a transaction rolled back at the end. Prints one JSON line.

    python3 dev.py run python bench/isolation.py [--clones 15] [--rollbacks 200]

Uses MARKETTINA_TEST_DATABASE_URL when set, else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.databases import SuiteDatabases

from markettina.kernel.db.urls import as_libpq_url


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clones", type=int, default=15)
    parser.add_argument("--rollbacks", type=int, default=200)
    args = parser.parse_args()

    databases = SuiteDatabases.start()
    try:
        template = databases.migrated_template()
        clone_times = []
        for _ in range(args.clones):
            started = time.perf_counter()
            with databases.fresh(template):
                pass
            clone_times.append(time.perf_counter() - started)

        shared = databases.clone(template, "bench")
        conninfo = as_libpq_url(shared.app)
        rollback_times = []
        for i in range(args.rollbacks):
            started = time.perf_counter()
            with psycopg.connect(conninfo) as conn:
                conn.execute(
                    "INSERT INTO leads (name, email) VALUES (%s, %s)",
                    (f"lead {i}", "x@example.com"),
                )
                conn.rollback()
            rollback_times.append(time.perf_counter() - started)
        with psycopg.connect(conninfo) as conn:
            leftover = conn.execute("SELECT count(*) FROM leads").fetchone()
    finally:
        databases.drop_all()

    clone, rollback = _ms(clone_times), _ms(rollback_times)
    print(
        json.dumps(
            {
                "bench": "test_isolation",
                "clone_from_template": clone,
                "rolled_back_transaction": rollback,
                "clone_over_rollback": round(clone["median_ms"] / rollback["median_ms"], 1),
                "rows_left_after_rollbacks": leftover[0] if leftover else None,
                "clones": args.clones,
                "rollbacks": args.rollbacks,
            }
        )
    )


if __name__ == "__main__":
    main()
