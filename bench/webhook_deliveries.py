"""Webhook deliveries per second: N deliveries queued (each its row and its job), one
`markettina worker` process signing and POSTing them to a local receiver that answers
200 at once, from the first attempt's start to the last one's end. Also the attempts'
p50/p99 duration (claim, POST, record). Prints one JSON line.

    python3 dev.py run python bench/webhook_deliveries.py [--deliveries 5000] [--concurrency 8]

Uses MARKETTINA_TEST_DATABASE_URL when set, else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.checks import sql
from tests.support.databases import SuiteDatabases
from tests.support.identity import new_account
from tests.support.webhooks import WORKER_ENV, new_webhook

from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from markettina.kernel.jobs import close_job_queue, open_job_queue
from markettina.kernel.webhooks.tasks import deliver_webhook

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class FastReceiver:
    """HTTP/1.1 with keep-alive on asyncio streams, in its own thread: 200 "ok" to all."""

    def __init__(self) -> None:
        self.count = 0
        self.port = 0
        self._ready = threading.Event()
        threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True).start()
        self._ready.wait(10)

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.count += 1
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


async def queue_deliveries(urls: DatabaseURLs, account: object, hook: object, count: int) -> None:
    rows = sql(
        urls,
        "INSERT INTO webhook_deliveries (account_id, webhook_id, event_type, event_id, payload, "
        "status, next_retry_at) SELECT %s, %s, 'bench.tick', gen_random_uuid(), "
        "jsonb_build_object('type', 'bench.tick', 'data', jsonb_build_object('n', n)), "
        "'pending', now() FROM generate_series(1, %s) AS n RETURNING id",
        account, hook, count,
    )  # fmt: skip
    sql(urls, "UPDATE webhooks SET total_deliveries = %s WHERE id = %s", count, hook)
    pool = await open_job_queue(as_libpq_url(urls.app))
    try:
        await deliver_webhook.batch_defer_async(
            *({"account_id": str(account), "delivery_id": str(row[0])} for row in rows)
        )
    finally:
        await close_job_queue(pool)


def start_worker(urls: DatabaseURLs, concurrency: int) -> subprocess.Popen[bytes]:
    admin = urls.admin.set(drivername="postgresql").render_as_string(hide_password=False)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MARKETTINA_")},
        **WORKER_ENV,
        "MARKETTINA_DATABASE_URL": admin,
        "MARKETTINA_LOG_LEVEL": "warning",
        "MARKETTINA_DATA_DIR": tempfile.mkdtemp(),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "markettina", "worker", "--concurrency", str(concurrency)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def run(urls: DatabaseURLs, deliveries: int, concurrency: int) -> dict[str, float]:
    receiver = FastReceiver()
    account = new_account(urls)
    hook = new_webhook(urls, account, f"http://127.0.0.1:{receiver.port}/hook")
    asyncio.run(queue_deliveries(urls, account, hook, deliveries))
    worker = start_worker(urls, concurrency)
    try:
        deadline = time.monotonic() + 600
        while sql(urls, "SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'")[0][
            0
        ]:
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the deliveries did not finish")
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    span, p50, p99, post_p50, post_p99 = sql(
        urls,
        "SELECT extract(epoch FROM max(finished_at) - min(started_at)),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY took), percentile_cont(0.99) WITHIN GROUP"
        " (ORDER BY took), percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms),"
        " percentile_cont(0.99) WITHIN GROUP (ORDER BY response_time_ms)"
        " FROM (SELECT *, extract(epoch FROM finished_at - started_at) AS took"
        " FROM webhook_attempts) AS a",
    )[0]  # fmt: skip
    [(attempts,)] = sql(urls, "SELECT count(*) FROM webhook_attempts")
    return {
        "deliveries_per_s": round(deliveries / float(span), 1),
        "seconds": round(float(span), 2),
        "attempts": int(attempts),
        "received": receiver.count,
        "attempt_p50_ms": round(float(p50) * 1000, 1),
        "attempt_p99_ms": round(float(p99) * 1000, 1),
        "post_p50_ms": round(float(post_p50), 1),
        "post_p99_ms": round(float(post_p99), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8, help="the worker's job slots")
    args = parser.parse_args()
    databases = SuiteDatabases.start()
    try:
        urls = databases.clone(databases.migrated_template(), "webhooks")
        result = run(urls, args.deliveries, args.concurrency)
    finally:
        databases.drop_all()
    print(json.dumps({
        "bench": "webhook_deliveries", "deliveries": args.deliveries,
        "concurrency": args.concurrency, "workers": 1, "cpus": os.cpu_count(), **result,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
