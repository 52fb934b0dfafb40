"""Reading a bulk import file (CSV or JSON) into rows, each checked on its own: pure, no
database. A row that fails names its line and field; the others go on to be written.

Columns (CSV header, or keys of each JSON object):

- ``content`` (required), ``hashtags`` (CSV: separated by spaces or commas; JSON: a list),
- ``social_account_ids`` (required; CSV: separated by spaces, commas or semicolons),
- ``scheduled_at``: RFC 3339 with an offset, or a wall-clock ``YYYY-MM-DD HH:MM`` read in the
  row's ``timezone`` (by the DST rule of ``time_zones``); empty: the next free queue slot,
- ``timezone`` (IANA; default UTC), ``campaign_id``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from markettina.kernel.text import unstorable

from .time_zones import wall_clock_instant, zone, zone_names

MAX_ROWS = 1000
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_CONTENT = 10_000
COLUMNS = ("content", "hashtags", "social_account_ids", "scheduled_at", "timezone",
           "campaign_id")  # fmt: skip
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_WALL_CLOCK = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2})(:\d{2})?")
_SEPARATORS = re.compile(r"[\s,;]+")


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (not the format, too big, too many rows)."""


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based among the data rows
    line: int | None  # the file's line (CSV) or None (JSON)
    field: str
    message: str
    code: str = "invalid"


@dataclass
class ImportRow:
    row: int
    line: int | None
    content: str = ""
    hashtags: list[str] = field(default_factory=list)
    social_account_ids: list[uuid.UUID] = field(default_factory=list)
    scheduled_at: dt.datetime | None = None
    timezone: str = "UTC"
    campaign_id: uuid.UUID | None = None
    problems: list[RowProblem] = field(default_factory=list)

    def refuse(self, column: str, message: str, code: str = "invalid") -> None:
        self.problems.append(RowProblem(self.row, self.line, column, message, code))


def read_rows(data: bytes, fmt: str) -> list[ImportRow]:
    """Every data row of the file, checked; ``UnreadableFile`` when the file is not one."""
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile(f"the file is over {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not UTF-8 text") from None
    records = list(_csv_records(text) if fmt == "csv" else _json_records(text))
    if len(records) > MAX_ROWS:
        raise UnreadableFile(f"a file holds at most {MAX_ROWS} rows; this one has {len(records)}")
    return [_checked(number, line, values) for number, (line, values) in enumerate(records, 1)]


def _csv_records(text: str) -> Iterator[tuple[int | None, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            raise UnreadableFile("unknown column(s): " + ", ".join(unknown))
        if "content" not in header:
            raise UnreadableFile("the header has no content column")
        line = reader.line_num + 1
        for values in reader:
            if None in values:
                values = {**values, "_extra": values.pop(None)}
            yield line, values
            line = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableFile(f"not CSV: {exc}") from None


def _json_records(text: str) -> Iterator[tuple[int | None, dict[str, Any]]]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise UnreadableFile(f"not JSON: {exc}") from None
    if isinstance(document, dict) and isinstance(document.get("posts"), list):
        document = document["posts"]
    if not isinstance(document, list):
        raise UnreadableFile('JSON must be a list of posts (or {"posts": [...]})')
    for values in document:
        yield None, values if isinstance(values, dict) else {"_not_object": values}


def _checked(number: int, line: int | None, values: dict[str, Any]) -> ImportRow:
    row = ImportRow(number, line)
    if "_not_object" in values:
        row.refuse("row", "each post is a JSON object", "not_object")
        return row
    if "_extra" in values:
        row.refuse("row", "more cells than the header has columns", "extra_cells")
    for name in values:
        if name not in COLUMNS and not name.startswith("_"):
            row.refuse(name, "not a column of an import", "unknown_column")
    row.content = _content(row, values.get("content"))
    row.hashtags = _listed(row, "hashtags", values.get("hashtags"))
    ids = _listed(row, "social_account_ids", values.get("social_account_ids"))
    row.social_account_ids = [_uuid(row, "social_account_ids", one) for one in ids]
    if not ids:
        row.refuse("social_account_ids", "at least one social account", "missing")
    row.timezone = _zone(row, values.get("timezone"))
    row.scheduled_at = _instant(row, values.get("scheduled_at"))
    campaign = values.get("campaign_id")
    row.campaign_id = _uuid(row, "campaign_id", campaign) if campaign not in (None, "") else None
    return row


def _text(row: ImportRow, column: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        row.refuse(column, "must be text", "not_text")
        return None
    found = unstorable(value)
    if found is not None:
        row.refuse(column, found[1], found[0])
        return None
    return value


def _content(row: ImportRow, value: Any) -> str:
    text = _text(row, "content", value)
    if text is None or not text.strip():
        if not any(p.field == "content" for p in row.problems):
            row.refuse("content", "required", "missing")
        return ""
    if len(text) > MAX_CONTENT:
        row.refuse("content", f"at most {MAX_CONTENT} characters", "too_long")
    return text


def _listed(row: ImportRow, column: str, value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        items = [_text(row, column, item) for item in value]
        return [item for item in items if item]
    text = _text(row, column, value)
    return [part for part in _SEPARATORS.split(text or "") if part]


def _uuid(row: ImportRow, column: str, value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        row.refuse(column, f"{str(value)[:60]!r} is not an id", "invalid_id")
        return uuid.UUID(int=0)


def _instant(row: ImportRow, value: Any) -> dt.datetime | None:
    text = _text(row, "scheduled_at", value)
    if not text:
        return None
    text = text.strip()
    wall_clock = _WALL_CLOCK.fullmatch(text)
    if not wall_clock and not _RFC3339.fullmatch(text):
        row.refuse("scheduled_at", "an RFC 3339 time (2026-01-31T09:30:00Z) or a wall-clock "
                   "time in the row's timezone (2026-01-31 09:30)", "rfc3339")  # fmt: skip
        return None
    try:
        if wall_clock:
            day, at = dt.date.fromisoformat(wall_clock[1]), dt.time.fromisoformat(wall_clock[2])
            return wall_clock_instant(day, at, zone(row.timezone))
        return dt.datetime.fromisoformat(text.replace("z", "Z")).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        row.refuse("scheduled_at", "not a real date and time", "rfc3339")
        return None


def _zone(row: ImportRow, value: Any) -> str:
    text = _text(row, "timezone", value)
    if not text:
        return "UTC"
    if text not in zone_names():
        row.refuse("timezone", "an IANA time zone such as Europe/Rome", "unknown_timezone")
        return "UTC"
    return text
