"""Bulk import of posts: the answer listing what was imported and every refused row."""

from __future__ import annotations

from pydantic import Field

from markettina.kernel.web.outputs import ResponseModel


class RefusedRow(ResponseModel):
    row: int = Field(description="The data row, counted from 1.")
    line: int | None = Field(description="The CSV line the row starts on (null for JSON).")
    field: str = Field(description="The column refused (`row` for the row as a whole).")
    message: str
    code: str


class ImportReportOut(ResponseModel):
    mode: str
    rows: int
    imported: int = Field(description="Posts written (0 when validating).")
    post_ids: list[int]
    refused: list[RefusedRow]
