"""Helpers of the lead tests: a lead made through the API, an import run in-process."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from markettina.content.lead_import_job import run_import
from markettina.kernel.db.engine import open_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.identity import Member


async def new_lead(client: httpx.AsyncClient, member: Member, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", f"Lead {uuid.uuid4().hex[:6]}")
    response = await client.post("/v1/leads", json=fields, headers=member.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def change(
    client: httpx.AsyncClient, member: Member, lead: dict[str, Any], **fields: Any
) -> httpx.Response:
    return await client.patch(
        f"/v1/leads/{lead['id']}",
        json={**fields, "version": lead["version"]},
        headers=member.headers,
    )


async def stage(
    client: httpx.AsyncClient, member: Member, csv: str, mapping: dict[str, str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"csv": csv}
    if mapping is not None:
        body["mapping"] = mapping
    response = await client.post("/v1/lead-imports", json=body, headers=member.headers)
    assert response.status_code == 202, response.text
    started: dict[str, Any] = response.json()
    return started


async def run_staged(db: DatabaseURLs, member: Member, import_id: str) -> dict[str, Any]:
    """Run the staged import as its job does, in this process (progress not recorded)."""
    seen: list[int] = []

    async def progress(percent: int) -> None:
        seen.append(percent)

    database = open_database(db.app, pool_size=1)
    try:
        async with unit_of_work(database.sessions, account_id=member.account_id) as session:
            report = await run_import(
                session,
                account_id=member.account_id,
                import_id=uuid.UUID(import_id),
                progress=progress,
            )
    finally:
        await database.dispose()
    assert seen == sorted(seen)
    return report


async def import_csv(
    client: httpx.AsyncClient,
    db: DatabaseURLs,
    member: Member,
    csv: str,
    mapping: dict[str, str] | None = None,
) -> dict[str, Any]:
    started = await stage(client, member, csv, mapping)
    return await run_staged(db, member, started["import_id"])


async def leads_of(
    client: httpx.AsyncClient, member: Member, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/leads", params={"limit": 200, **params}, headers=member.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
