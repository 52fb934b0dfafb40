"""Importing a CSV file of leads: staged at upload, run as a pollable job.

The upload (``stage_import``) checks the header and counts the rows, keeps the file in
``lead_imports`` (a job's arguments carry ids, never payloads) and starts the job. The job
(``run_import``) works in one transaction: it parses and merges the rows (``lead_import``),
locks the account's live leads sharing an e-mail with the file, COPYs the final rows into
a temporary table and writes them with one INSERT (new leads) and one UPDATE (merged
ones), appends the status changes, and deletes the staged file. Anything failing rolls it
all back: nothing is half-imported. The report (counts and refused rows, each with its
line and reason) is the job's result.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import ARRAY, Text, any_, bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.async_jobs import start_job
from markettina.kernel.db.raw import driver_connection
from markettina.kernel.errors import FieldError, ValidationFailed

from .lead_import import BadFile, LeadRow, merge, merge_file, parse, read_header
from .lead_pipeline import record_status_change
from .lead_scoring import LeadFacts, Weights, account_weights, score_lead, transaction_now
from .leads import record_score_change
from .models import Lead, LeadImport

JOB_TYPE = "lead_import"
MAX_REPORTED_REFUSALS = 1000

Progress = Callable[[int], Awaitable[None]]

_COPIED = (
    "target_id",
    "name",
    "email",
    "phone",
    "company",
    "source",
    "status",
    "notes",
    "tags",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "score",
    "score_breakdown",
)
_WRITTEN = _COPIED[1:]
_STAGING = """
CREATE TEMPORARY TABLE lead_import_rows (
    target_id integer, name text NOT NULL, email text, phone text, company text, source text,
    status text NOT NULL, notes text, tags text[] NOT NULL, utm_source text, utm_medium text,
    utm_campaign text, utm_term text, utm_content text, score integer NOT NULL,
    score_breakdown jsonb NOT NULL
) ON COMMIT DROP
"""


async def stage_import(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    created_by: int | None,
    csv_text: str,
    mapping: dict[str, str],
    task: Any,
) -> tuple[uuid.UUID, uuid.UUID, int, dict[str, str]]:
    """Keep the file and start its job: (job id, import id, data rows, column mapping).
    A header that cannot be imported, or too many rows, is a 422 naming ``body.csv``."""
    try:
        columns, rows = read_header(csv_text, mapping)
    except BadFile as exc:
        raise ValidationFailed(
            f"the file cannot be imported: {exc}",
            errors=[FieldError("body.csv", str(exc), "bad_file")],
        ) from exc
    staged = LeadImport(
        account_id=account_id, csv_text=csv_text, mapping=mapping, created_by=created_by
    )
    session.add(staged)
    await session.flush()
    job_id = await start_job(
        session,
        account_id=account_id,
        job_type=JOB_TYPE,
        task=task,
        created_by=created_by,
        input_data={"import_id": str(staged.id), "rows": rows},
        max_retries=1,
    )
    return job_id, staged.id, rows, columns


async def run_import(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    import_id: uuid.UUID,
    progress: Progress,
) -> dict[str, Any]:
    """Import the staged file in the caller's transaction; the report."""
    staged = await session.scalar(
        select(LeadImport).where(LeadImport.account_id == account_id, LeadImport.id == import_id)
    )
    if staged is None:  # imported by an earlier run that committed
        return {"already_imported": True}
    importer = staged.created_by
    parsed = parse(staged.csv_text, staged.mapping)
    await progress(20)
    merged_rows, folded = merge_file(parsed.rows)
    existing = await _existing_leads(
        session, account_id, [row.email for row in merged_rows if row.email]
    )
    await progress(40)
    weights = await account_weights(session, account_id=account_id)
    now = await transaction_now(session)
    copied: list[tuple[Any, ...]] = []
    status_changes: list[tuple[int, str, str]] = []
    score_changes: list[tuple[int, int, int]] = []
    unchanged = 0
    for row in merged_rows:
        lead = existing.get(row.email) if row.email else None
        if lead is None:
            copied.append(_new_lead(row, weights, now))
            continue
        final = merge(_as_row(lead), row)
        values = _written(final, lead)
        if all(values[name] == getattr(lead, name) for name in _WRITTEN[:-2]):
            unchanged += 1
            continue
        scored = score_lead(_facts(values, lead), weights.weights, now)
        copied.append(
            (
                lead.id,
                *(values[name] for name in _WRITTEN[:-2]),
                scored.score,
                Jsonb(scored.breakdown),
            )
        )
        if values["status"] != lead.status:
            status_changes.append((lead.id, lead.status, values["status"]))
        if scored.score != lead.score:
            score_changes.append((lead.id, lead.score, scored.score))
    created = await _write(session, account_id, importer, copied)
    await progress(80)
    for lead_id, from_status, to_status in status_changes:
        await record_status_change(
            session,
            account_id=account_id,
            lead_id=lead_id,
            from_status=from_status,
            to_status=to_status,
            changed_by=importer,
            via="import",
        )
    for lead_id, from_score, to_score in score_changes:
        await record_score_change(
            session,
            account_id=account_id,
            lead_id=lead_id,
            from_score=from_score,
            to_score=to_score,
        )
    await session.execute(
        delete(LeadImport).where(LeadImport.account_id == account_id, LeadImport.id == import_id)
    )
    return {
        "rows": len(parsed.rows) + len(parsed.refused),
        "created": created,
        "updated": len(copied) - created,
        "unchanged": unchanged,
        "merged_in_file": folded,
        "refused": len(parsed.refused),
        "refused_rows": [
            {"line": refusal.line, "reason": refusal.reason}
            for refusal in parsed.refused[:MAX_REPORTED_REFUSALS]
        ],
        "refused_rows_truncated": len(parsed.refused) > MAX_REPORTED_REFUSALS,
        "columns": parsed.columns,
    }


# what the merge reads of an existing lead
_EXISTING = (
    Lead.id, Lead.email, Lead.name, Lead.phone, Lead.company, Lead.source, Lead.status,
    Lead.notes, Lead.tags, Lead.utm_source, Lead.utm_medium, Lead.utm_campaign, Lead.utm_term,
    Lead.utm_content, Lead.score, Lead.email_opens, Lead.email_clicks, Lead.form_submissions,
    Lead.last_engaged_at, Lead.created_at,
)  # fmt: skip


async def _existing_leads(
    session: AsyncSession, account_id: uuid.UUID, emails: list[str]
) -> dict[str, Any]:
    """The account's live leads with these e-mails, locked, as rows (not ORM objects: an
    import may read 100,000 of them)."""
    if not emails:
        return {}
    rows = await session.execute(
        select(*_EXISTING)
        .where(
            Lead.account_id == account_id,
            Lead.deleted_at.is_(None),
            Lead.email == any_(bindparam("emails", emails, type_=ARRAY(Text))),
        )
        .with_for_update()
    )
    return {row.email: row for row in rows}


def _as_row(lead: Any) -> LeadRow:
    return LeadRow(
        0,
        values={
            name: getattr(lead, name)
            for name in ("email", *_WRITTEN[:-2])
            if name not in ("status", "tags")
        },
        status=lead.status,
        tags=list(lead.tags),
    )


def _written(row: LeadRow, lead: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: row.values.get(name) for name in _WRITTEN[:-2] if name not in ("status", "tags")
    }
    values["name"] = values["name"] or row.email
    values["status"] = row.status or (lead.status if lead is not None else "NEW")
    values["tags"] = row.tags
    return values


def _facts(values: dict[str, Any], lead: Any, now: dt.datetime | None = None) -> LeadFacts:
    return LeadFacts(
        status=values["status"],
        source=values["source"],
        email=values["email"],
        phone=values["phone"],
        company=values["company"],
        utm_source=values["utm_source"],
        email_opens=lead.email_opens if lead else 0,
        email_clicks=lead.email_clicks if lead else 0,
        form_submissions=lead.form_submissions if lead else 0,
        last_engaged_at=lead.last_engaged_at if lead else None,
        created_at=lead.created_at if lead else now,  # type: ignore[arg-type]
    )


def _new_lead(row: LeadRow, weights: Weights, now: dt.datetime) -> tuple[Any, ...]:
    values = _written(row, None)
    scored = score_lead(_facts(values, None, now), weights.weights, now)
    return (None, *(values[name] for name in _WRITTEN[:-2]), scored.score, Jsonb(scored.breakdown))


async def _write(
    session: AsyncSession,
    account_id: uuid.UUID,
    importer: int | None,
    rows: list[tuple[Any, ...]],
) -> int:
    """COPY the rows into a temporary table, then INSERT the new leads and UPDATE the
    merged ones from it; the number of leads created."""
    if not rows:
        return 0
    connection = await driver_connection(session)
    await connection.execute(_STAGING)
    async with connection.cursor().copy(
        f"COPY lead_import_rows ({', '.join(_COPIED)}) FROM STDIN"
    ) as copy:
        for row in rows:
            await copy.write_row(row)
    await connection.execute("ANALYZE lead_import_rows")  # the join below needs its size
    written = ", ".join(_WRITTEN)
    inserted = await session.execute(
        text(
            f"INSERT INTO leads (account_id, user_id, created_by, scored_at, {written}) "
            f"SELECT :account_id, :importer, :importer, now(), {written} "
            "FROM lead_import_rows WHERE target_id IS NULL"
        ),
        {"account_id": account_id, "importer": importer},
    )
    await session.execute(
        text(
            "UPDATE leads l SET scored_at = now(), "
            + ", ".join(f"{name} = r.{name}" for name in _WRITTEN)
            + " FROM lead_import_rows r WHERE r.target_id IS NOT NULL"
            " AND l.account_id = :account_id AND l.id = r.target_id"
        ),
        {"account_id": account_id},
    )
    await session.execute(text("DROP TABLE lead_import_rows"))
    return int(inserted.rowcount)  # type: ignore[attr-defined]
