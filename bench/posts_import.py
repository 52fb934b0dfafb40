"""A 1,000-row CSV import of posts through the API (POST /v1/post-imports, multipart),
in-process over httpx: every row created as a draft (content version 1, event), then
scheduled on one social account (approval gate, targets, event), each in its own
savepoint, all in one transaction. Half the rows carry a time, half go to the queue.
Prints one JSON line: the import's wall time per mode, and rows per second.

    python3 dev.py run python bench/posts_import.py [--rows 1000] [--runs 3]

Uses MARKETTINA_TEST_DATABASE_URL when set, else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.content.calendar_support import new_social_account
from tests.support.api import api_client, make_app
from tests.support.databases import SuiteDatabases
from tests.support.identity import new_account, new_member

from markettina.kernel.db.urls import DatabaseURLs


def csv_of(rows: int, social: str, start: dt.datetime) -> bytes:
    lines = ["content,hashtags,social_account_ids,scheduled_at,timezone"]
    for n in range(rows):
        at = (start + dt.timedelta(hours=n)).isoformat().replace("+00:00", "Z") if n % 2 else ""
        lines.append(f"Post {n} of the bench,bench tips,{social},{at},Europe/Rome")
    return ("\r\n".join(lines) + "\r\n").encode()


async def one_import(urls: DatabaseURLs, rows: int, mode: str) -> tuple[float, int]:
    owner = new_member(urls, new_account(urls))
    social = new_social_account(urls, owner)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    async with api_client(make_app(urls)) as client:
        hourly = [{"weekday": d, "time": f"{h:02d}:30"} for d in range(1, 8) for h in range(24)]
        queue = await client.put(f"/v1/posting-queues/{social}", headers=owner.headers,
                                 json={"timezone": "Europe/Rome", "slots": hourly})  # fmt: skip
        queue.raise_for_status()
        data = csv_of(rows, str(social), start)
        began = time.perf_counter()
        response = await client.post(
            "/v1/post-imports", params={"mode": mode}, headers=owner.headers,
            files={"file": ("posts.csv", data)},
        )  # fmt: skip
        elapsed = time.perf_counter() - began
    response.raise_for_status()
    report = response.json()
    assert not report["refused"], report["refused"][:3]
    return elapsed, report["imported"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    databases = SuiteDatabases.start()
    try:
        urls = databases.migrated_template()
        result: dict[str, object] = {"bench": "posts_import", "rows": args.rows}
        for mode in ("validate", "valid_rows"):
            times = []
            for _ in range(args.runs):
                elapsed, imported = asyncio.run(one_import(urls, args.rows, mode))
                times.append(elapsed)
            median = statistics.median(times)
            result[f"{mode}_s"] = round(median, 3)
            result[f"{mode}_rows_per_s"] = round(args.rows / median, 1)
        result["imported_per_run"] = imported
        print(json.dumps(result))
    finally:
        databases.drop_all()


if __name__ == "__main__":
    main()
