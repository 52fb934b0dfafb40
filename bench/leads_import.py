"""A 100,000-row CSV import of leads through the import job's work (``run_import``: parse,
merge by e-mail, score, COPY into a temporary table, one INSERT, commit), as markettina_app
with the tenant set, against a plain COPY of the same rows into the same table (``leads``,
another account, as the owner role, which bypasses row-level security: COPY FROM refuses
a table under it to the app) in the same run. Then the same file again with every company
changed: every row merges into an existing lead (one UPDATE). And a text search (``?q=``)
over the 100,000.

Prints one JSON line: rows per second of each, and the import's as a ratio of COPY's.

    python3 dev.py run python bench/leads_import.py [--rows 100000]

Uses MARKETTINA_TEST_DATABASE_URL when set, else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.checks import sql
from tests.support.databases import SuiteDatabases
from tests.support.identity import new_account, new_member

from markettina.content.lead_import import read_header
from markettina.content.lead_import_job import run_import
from markettina.content.leads import LeadFilters, list_leads
from markettina.kernel.db import bootstrap
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs

SOURCES = ("referral", "website", "webinar", "linkedin", "google ads", "trade fair")
STATUSES = ("NEW", "CONTACTED", "QUALIFIED")


def csv_file(rows: int, company: str) -> str:
    lines = ["name,email,company,source,tags,status,utm_source,utm_campaign"]
    for n in range(rows):
        lines.append(
            f"Lead {n},lead{n}@example{n % 97}.com,{company} {n % 1000},{SOURCES[n % 6]},"
            f"t{n % 7};t{n % 11},{STATUSES[n % 3]},news,spring-{n % 5}"
        )
    return "\n".join(lines) + "\n"


async def timed_import(
    urls: DatabaseURLs, account_id: uuid.UUID, user_id: int, text: str
) -> tuple[float, dict[str, Any]]:
    [(import_id,)] = sql(
        urls,
        "INSERT INTO lead_imports (account_id, csv_text, created_by) VALUES (%s, %s, %s) "
        "RETURNING id",
        account_id,
        text,
        user_id,
    )
    engine = create_async_engine(urls.app, pool_size=1)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def progress(percent: int) -> None:
        return None

    try:
        started = time.perf_counter()
        async with unit_of_work(sessions, account_id=account_id) as session:
            report = await run_import(
                session, account_id=account_id, import_id=import_id, progress=progress
            )
        return time.perf_counter() - started, report
    finally:
        await engine.dispose()


def timed_copy(urls: DatabaseURLs, account_id: uuid.UUID, rows: int) -> float:
    """The same rows, as the import writes them, by COPY straight into leads."""
    records = []
    for n in range(rows):
        records.append(
            (
                account_id,
                f"Lead {n}",
                f"lead{n}@example{n % 97}.com",
                f"Acme {n % 1000}",
                SOURCES[n % 6],
                [f"t{n % 7}", f"t{n % 11}"],
                STATUSES[n % 3],
                "news",
                f"spring-{n % 5}",
                50,
                json.dumps({"rules": {}, "total_weight": 100}),
            )
        )
    with bootstrap.connect(urls.owner, autocommit=False) as conn:  # BYPASSRLS
        started = time.perf_counter()
        with conn.cursor().copy(
            "COPY leads (account_id, name, email, company, source, tags, status, utm_source, "
            "utm_campaign, score, score_breakdown) FROM STDIN"
        ) as copy:
            for record in records:
                copy.write_row(record)
        conn.commit()
        return time.perf_counter() - started


async def timed_search(urls: DatabaseURLs, account_id: uuid.UUID) -> float:
    engine = create_async_engine(urls.app, pool_size=1)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            async with unit_of_work(sessions, account_id=account_id) as session:
                await list_leads(
                    session,
                    account_id=account_id,
                    filters=LeadFilters(q="lead9999@"),
                    limit=50,
                    cursor=None,
                )
            best = min(best, time.perf_counter() - started)
        return best
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    databases = SuiteDatabases.start()
    try:
        urls = databases.migrated_template()
        importer = new_member(urls, new_account(urls))
        copy_account = new_account(urls)
        text = csv_file(args.rows, "Acme")
        started = time.perf_counter()
        read_header(text, {})
        header_seconds = time.perf_counter() - started
        copy_seconds = timed_copy(urls, copy_account, args.rows)
        import_seconds, report = asyncio.run(
            timed_import(urls, importer.account_id, importer.user_id, text)
        )
        assert report["created"] == args.rows, report
        merge_seconds, merged = asyncio.run(
            timed_import(urls, importer.account_id, importer.user_id, csv_file(args.rows, "Beta"))
        )
        assert merged["updated"] == args.rows, merged
        search_seconds = asyncio.run(timed_search(urls, importer.account_id))
        print(
            json.dumps(
                {
                    "bench": "leads_import",
                    "rows": args.rows,
                    "import_rows_per_s": round(args.rows / import_seconds),
                    "copy_rows_per_s": round(args.rows / copy_seconds),
                    "import_to_copy_ratio": round(copy_seconds / import_seconds, 3),
                    "merge_import_rows_per_s": round(args.rows / merge_seconds),
                    "upload_check_s": round(header_seconds, 3),
                    "search_q_ms": round(search_seconds * 1000, 1),
                }
            )
        )
    finally:
        databases.drop_all()


if __name__ == "__main__":
    main()
