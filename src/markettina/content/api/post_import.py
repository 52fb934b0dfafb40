"""HTTP route of the bulk import of posts (multipart/form-data: `file`, CSV or JSON)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from markettina.identity.public import Actor, Transaction, require
from markettina.kernel.errors import FieldError, ValidationFailed

from .. import post_import
from ..import_rows import MAX_FILE_BYTES, MAX_ROWS, UnreadableFile
from ..schemas.imports import ImportReportOut, RefusedRow
from ..upload_receiving import received_upload

router = APIRouter(prefix="/post-imports", tags=["posts"])

ContentPublish = Annotated[Actor, require("content:publish")]

_IMPORT_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": f"CSV (with a header) or JSON, at most {MAX_ROWS} rows",
                    }
                },
            }
        }
    },
}


@router.post(
    "",
    response_model=ImportReportOut,
    summary="Import posts from a CSV or JSON file (at most 1,000 rows), row by row: "
    "validate only, all or nothing, or the valid rows",
    openapi_extra={"requestBody": _IMPORT_BODY},
    responses={
        413: {"description": "The file is over 5 MB"},
        415: {"description": "Not multipart/form-data"},
    },
)
async def import_posts(
    request: Request,
    actor: ContentPublish,
    session: Transaction,
    mode: Annotated[
        Literal["validate", "all_or_nothing", "valid_rows"],
        Query(description="validate: write nothing; all_or_nothing: any refused row refuses "
              "the file; valid_rows: write the rows that pass."),
    ] = "validate",
    file_format: Annotated[
        Literal["csv", "json"] | None,
        Query(alias="format", description="Default: from the file's name or type."),
    ] = None,
) -> ImportReportOut:  # fmt: skip
    async with received_upload(
        request.stream(), request.headers.get("content-type"), max_bytes=MAX_FILE_BYTES,
        text_fields=(),
    ) as upload:  # fmt: skip
        data = upload.path.read_bytes()
    fmt = file_format or _format_of(upload.filename, upload.declared_type)
    try:
        report = await post_import.import_posts(session, actor=actor, data=data, fmt=fmt, mode=mode)
    except UnreadableFile as exc:
        raise ValidationFailed(
            str(exc), errors=[FieldError("body.file", str(exc), "unreadable_file")]
        ) from None
    return ImportReportOut(
        mode=report.mode, rows=report.rows, imported=report.imported, post_ids=report.post_ids,
        refused=[RefusedRow.model_validate(p) for p in report.refused],
    )  # fmt: skip


def _format_of(filename: str | None, content_type: str | None) -> str:
    name = (filename or "").lower()
    if name.endswith(".json") or content_type == "application/json":
        return "json"
    if name.endswith(".csv") or content_type in ("text/csv", "application/vnd.ms-excel"):
        return "csv"
    raise ValidationFailed(
        "say whether the file is CSV or JSON (format=csv|json, or a .csv/.json name)",
        errors=[FieldError("query.format", "unknown file format", "unknown_format")],
    )
