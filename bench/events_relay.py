"""Domain events relayed per second, end to end: from the outbox insert (committed by the
application role, 1,000 events per transaction over 10 accounts) to the relay's mark
after a trivial handler ran, with one and with two `markettina worker` processes.
Prints one JSON line.

    python3 dev.py run python bench/events_relay.py [--events 4000] [--concurrency 4]

Uses MARKETTINA_TEST_DATABASE_URL when set, else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.checks import sql
from tests.support.databases import SuiteDatabases
from tests.support.identity import new_account

from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url

BENCH = Path(__file__).resolve().parent
ACCOUNTS = 10
PER_TRANSACTION = 1000


def start_workers(
    urls: DatabaseURLs, count: int, concurrency: int
) -> list[subprocess.Popen[bytes]]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MARKETTINA_")},
        "MARKETTINA_DATABASE_URL": urls.admin.set(drivername="postgresql").render_as_string(
            hide_password=False
        ),
        "MARKETTINA_EXTRA_TASK_MODULES": json.dumps(["relay_handler"]),
        "MARKETTINA_LOG_LEVEL": "warning",
        "MARKETTINA_DATA_DIR": tempfile.mkdtemp(),
        "PYTHONPATH": str(BENCH),
    }
    command = [sys.executable, "-m", "markettina", "worker", "--concurrency", str(concurrency)]
    return [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]


def wait_for_workers(urls: DatabaseURLs, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        rows = sql(urls, "SELECT count(*) FROM procrastinate_workers")
        if rows[0][0] >= count:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{count} workers did not start")


def insert_events(urls: DatabaseURLs, accounts: list[object], events: int) -> float:
    """Commit ``events`` outbox rows as the application role; the seconds it took."""
    started = time.monotonic()
    per_account = events // len(accounts)
    with psycopg.connect(as_libpq_url(urls.app)) as conn:
        for account in accounts:
            for first in range(0, per_account, PER_TRANSACTION):
                size = min(PER_TRANSACTION, per_account - first)
                with conn.transaction():
                    conn.execute("SELECT set_config('app.current_account_id', %s, true)",
                                 (str(account),))  # fmt: skip
                    conn.execute(
                        "INSERT INTO domain_events (account_id, aggregate_type, aggregate_id,"
                        " aggregate_version, event_type, event_data)"
                        " SELECT %s, 'bench', n::text, 0, 'bench.tick', jsonb_build_object('n', n)"
                        " FROM generate_series(%s::int, %s::int) AS n",
                        (account, first, first + size - 1),
                    )
    return time.monotonic() - started


def run(databases: SuiteDatabases, template: DatabaseURLs, workers: int, events: int,
        concurrency: int) -> dict[str, float]:  # fmt: skip
    urls = databases.clone(template, f"relay{workers}")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        accounts = [new_account(urls) for _ in range(ACCOUNTS)]
        processes = start_workers(urls, workers, concurrency)
        wait_for_workers(urls, workers)
        insert_seconds = insert_events(urls, accounts, events)
        deadline = time.monotonic() + 600
        while sql(urls, "SELECT count(*) FROM domain_events WHERE NOT processed")[0][0]:
            if time.monotonic() > deadline:
                raise RuntimeError("the relay did not finish in 10 minutes")
            time.sleep(0.1)
        span, p50, p99 = sql(
            urls,
            "SELECT extract(epoch FROM max(processed_at) - min(created_at)),"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY latency),"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY latency)"
            " FROM domain_events, extract(epoch FROM processed_at - created_at) AS latency"
            " WHERE event_type = 'bench.tick'",
        )[0]  # fmt: skip
        return {
            "events_per_s": round(events / float(span), 1),
            "seconds": round(float(span), 2),
            "insert_seconds": round(insert_seconds, 2),
            "latency_p50_s": round(float(p50), 2),
            "latency_p99_s": round(float(p99), 2),
        }
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        databases.drop(urls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=4_000)
    parser.add_argument("--concurrency", type=int, default=4, help="job slots per worker")
    args = parser.parse_args()
    databases = SuiteDatabases.start()
    try:
        template = databases.migrated_template()
        one = run(databases, template, 1, args.events, args.concurrency)
        two = run(databases, template, 2, args.events, args.concurrency)
    finally:
        databases.drop_all()
    print(json.dumps({
        "bench": "events_relay", "events": args.events, "cpus": os.cpu_count(),
        "one_worker": one, "two_workers": two,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
