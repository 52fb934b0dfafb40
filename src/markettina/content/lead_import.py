"""Reading a CSV file of leads and merging its rows: pure functions, no database.

Columns are mapped by header: a header that names a lead field (case-insensitively,
spaces and hyphens as underscores, or one of the usual aliases such as ``e-mail`` or
``organisation``) fills it; an explicit mapping overrides that; other columns are ignored.
A file needs a ``name`` or an ``email`` column.

The merge rule (docs/api.md, "Importing leads"), for rows with the same e-mail, in the
file and against the account's live lead with that e-mail (the existing lead counts as
the first row):

- a text field takes the last non-empty value (an empty cell never erases anything);
- tags are the union, in the order first seen;
- the status never moves backwards: WON and LOST are final (the first one met stays),
  otherwise the furthest along the pipeline wins (``lead_pipeline.import_status``);
- a row with no e-mail is a lead of its own (there is nothing to match it by); a new lead
  without a name is named after its e-mail.

A row is refused, with its line and reason, when its e-mail is not an address, a value is
too long or holds characters PostgreSQL cannot store, its status is unknown, it has more
cells than the header, or it has neither name nor e-mail.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from email_validator import EmailNotValidError, validate_email

from markettina.kernel.text import unstorable

from .lead_pipeline import import_status
from .models import LEAD_STATUSES

MAX_ROWS = 100_000
TEXT_FIELDS = (
    "name",
    "phone",
    "company",
    "source",
    "notes",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
)
FIELDS = (*TEXT_FIELDS, "email", "status", "tags")
MAX_LENGTH = {"name": 200, "phone": 50, "notes": 10_000, "email": 320, "tags": 2_000}
DEFAULT_MAX_LENGTH = 200
MAX_TAGS = 50
MAX_TAG_LENGTH = 50

ALIASES = {
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "full_name": "name",
    "contact": "name",
    "contact_name": "name",
    "telephone": "phone",
    "phone_number": "phone",
    "mobile": "phone",
    "tel": "phone",
    "organisation": "company",
    "organization": "company",
    "company_name": "company",
    "tag": "tags",
    "labels": "tags",
    "lead_source": "source",
    "stage": "status",
    "note": "notes",
    "comment": "notes",
    "comments": "notes",
}
_TAG_SEPARATORS = re.compile(r"[;|,]")


class BadFile(ValueError):
    """The file as a whole cannot be imported (its header): the upload is refused."""


@dataclass
class LeadRow:
    """One lead's values as the import knows them (None: not given)."""

    line: int
    values: dict[str, str | None] = field(default_factory=dict)
    status: str | None = None
    tags: list[str] = field(default_factory=list)

    @property
    def email(self) -> str | None:
        return self.values.get("email")


@dataclass(frozen=True)
class Refusal:
    line: int
    reason: str


@dataclass(frozen=True)
class ParsedFile:
    columns: dict[str, str]  # header -> field (or "ignore")
    rows: list[LeadRow]
    refused: list[Refusal]


def _normal(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def map_columns(headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Header -> the field it fills (``ignore`` for the others); BadFile without a name or
    e-mail column, or with two columns filling one field."""
    explicit = {_normal(k): v for k, v in mapping.items()}
    columns: dict[str, str] = {}
    for header in headers:
        key = _normal(header)
        target = explicit.get(key) or (key if key in FIELDS else ALIASES.get(key, "ignore"))
        columns[header] = target
    filled = [target for target in columns.values() if target != "ignore"]
    twice = sorted({target for target in filled if filled.count(target) > 1})
    if twice:
        raise BadFile(f"several columns fill {', '.join(twice)}: map all but one to ignore")
    if "name" not in filled and "email" not in filled:
        raise BadFile("the file needs a name or an email column (or a mapping to one)")
    unknown = sorted(set(mapping) - set(headers))
    if unknown:
        raise BadFile(f"the mapping names columns the file does not have: {', '.join(unknown)}")
    return columns


def _reader(text: str) -> Iterator[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)


def read_header(text: str, mapping: dict[str, str]) -> tuple[dict[str, str], int]:
    """The column mapping and the number of data rows; BadFile if the header cannot be
    imported or there are more than ``MAX_ROWS`` rows."""
    if unstorable(text) is not None:
        raise BadFile("the file holds characters that cannot be stored (a NUL)")
    reader = _reader(text.lstrip("\ufeff"))
    try:
        headers = next(reader)
    except StopIteration:
        raise BadFile("the file is empty") from None
    except csv.Error as exc:
        raise BadFile(f"the header row is not CSV: {exc}") from exc
    headers = [header.strip() for header in headers]
    if not any(headers):
        raise BadFile("the first row must be a header")
    columns = map_columns(headers, mapping)
    rows = 0
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows += 1
                if rows > MAX_ROWS:
                    raise BadFile(f"the file has more than {MAX_ROWS} rows")
    except csv.Error as exc:
        raise BadFile(f"line {reader.line_num} is not CSV: {exc}") from exc  # type: ignore[attr-defined]
    return columns, rows


def parse(text: str, mapping: dict[str, str]) -> ParsedFile:
    """Every data row as a ``LeadRow`` or a ``Refusal`` (empty rows are skipped)."""
    reader = _reader(text.lstrip("\ufeff"))
    headers = [header.strip() for header in next(reader)]
    columns = map_columns(headers, mapping)
    targets = [columns[header] for header in headers]
    rows: list[LeadRow] = []
    refused: list[Refusal] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            refused.append(Refusal(reader.line_num, f"not CSV: {exc}"))  # type: ignore[attr-defined]
            continue
        line = reader.line_num  # type: ignore[attr-defined]
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(targets):
            refused.append(
                Refusal(line, f"{len(cells)} cells, but the header has {len(targets)} columns")
            )
            continue
        row = _row(line, dict(zip(targets, cells, strict=False)))
        if isinstance(row, Refusal):
            refused.append(row)
        else:
            rows.append(row)
    return ParsedFile(columns, rows, refused)


# an ASCII dot-atom local part: email_validator accepts it as it is (its only rule for one)
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def address(value: str) -> str:
    """The e-mail address as stored (lower-cased), as the API's ``Email`` validates it
    (email_validator, without a DNS look-up); EmailNotValidError if it is none. The
    domain's verdict is cached: it is most of the work, and a file repeats domains."""
    local, at, domain = value.rpartition("@")
    if at and len(local) <= 64 and len(value) <= 254 and _PLAIN_LOCAL.fullmatch(local):
        return f"{local}@{_domain(domain)}".lower()
    return validate_email(value, check_deliverability=False).normalized.lower()


@functools.lru_cache(maxsize=4096)
def _domain(domain: str) -> str:
    return validate_email(f"a@{domain}", check_deliverability=False).domain


def _row(line: int, cells: dict[str, str]) -> LeadRow | Refusal:
    row = LeadRow(line)
    for target, raw in cells.items():
        if target == "ignore":
            continue
        value = raw.strip()
        if not value:
            continue
        if len(value) > MAX_LENGTH.get(target, DEFAULT_MAX_LENGTH):
            return Refusal(
                line,
                f"{target}: longer than {MAX_LENGTH.get(target, DEFAULT_MAX_LENGTH)} characters",
            )
        if unstorable(value) is not None:
            return Refusal(line, f"{target}: holds characters that cannot be stored")
        if target == "email":
            try:
                row.values["email"] = address(value)
            except EmailNotValidError as exc:
                return Refusal(line, f"email: {value!r} is not an e-mail address ({exc})")
        elif target == "status":
            status = _normal(value).upper()
            if status not in LEAD_STATUSES:
                return Refusal(line, f"status: {value!r} is not one of {', '.join(LEAD_STATUSES)}")
            row.status = status
        elif target == "tags":
            tags = [tag.strip() for tag in _TAG_SEPARATORS.split(value) if tag.strip()]
            if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
                return Refusal(line, f"tags: a tag is longer than {MAX_TAG_LENGTH} characters")
            row.tags = list(dict.fromkeys(tags))
            if len(row.tags) > MAX_TAGS:
                return Refusal(line, f"tags: more than {MAX_TAGS}")
        else:
            row.values[target] = value
    if not row.values.get("name") and not row.email:
        return Refusal(line, "neither a name nor an e-mail")
    return row


# --- the merge rule ---------------------------------------------------------------------------


def merge(earlier: LeadRow, later: LeadRow) -> LeadRow:
    """``later`` merged into ``earlier`` (the same e-mail): non-empty later values win, tags
    are unioned, the status never moves backwards. Keeps ``earlier``'s line."""
    values = dict(earlier.values)
    values.update({k: v for k, v in later.values.items() if v})
    status = later.status if earlier.status is None else import_status(earlier.status, later.status)
    tags = list(dict.fromkeys([*earlier.tags, *later.tags]))[:MAX_TAGS]
    return replace(earlier, values=values, status=status, tags=tags)


def merge_file(rows: Iterable[LeadRow]) -> tuple[list[LeadRow], int]:
    """The file's rows with those sharing an e-mail merged, in order of first appearance;
    and how many rows were merged into an earlier one."""
    by_email: dict[str, LeadRow] = {}
    merged: list[LeadRow | str] = []  # a row, or the e-mail whose merged row goes there
    folded = 0
    for row in rows:
        email = row.email
        if email is None:
            merged.append(row)
        elif email in by_email:
            by_email[email] = merge(by_email[email], row)
            folded += 1
        else:
            by_email[email] = row
            merged.append(email)
    return [by_email[item] if isinstance(item, str) else item for item in merged], folded
