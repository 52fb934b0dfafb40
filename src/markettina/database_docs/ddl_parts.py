"""The five DDL parts: pg_dump's objects, each placed in the part of the table it belongs to.

Parts 1-4 create the contexts' tables with their sequences, defaults, keys, checks, indexes
and foreign keys (part 4 also the job queue and alembic_version); part 5 everything that
sits on top: views and materialized views, functions, triggers, row-level security,
policies and grants. Each part only refers to objects of the same or an earlier part, so the
five applied in order to an empty database give the migrations' schema.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field, replace

from .catalog import Catalog, is_infrastructure
from .contexts import (
    CONTEXTS,
    INFRASTRUCTURE_PART,
    SECURITY_PART,
    context_tables,
    part_of_table,
    unmodelled_tables,
)
from .dump import Entry


class GenerationError(RuntimeError):
    """The dump holds something the generator cannot place consistently."""


@dataclass(frozen=True)
class PartSpec:
    number: int
    filename: str
    title: str


PARTS = (
    PartSpec(1, "MARKETTINA_v2_DDL_PART1.sql", "Accounts, Identity, Billing"),
    PartSpec(2, "MARKETTINA_v2_DDL_PART2.sql", "Content, Analytics"),
    PartSpec(3, "MARKETTINA_v2_DDL_PART3.sql", "Social, AI services"),
    PartSpec(4, "MARKETTINA_v2_DDL_PART4.sql", "Workflow, Knowledge base, Shared kernel"),
    PartSpec(
        5,
        "MARKETTINA_v2_DDL_PART5_VIEWS.sql",
        "Materialized views, views, functions, triggers, RLS, grants",
    ),
)

# what every part sets first (pg_dump's own settings minus those that vary by server version)
PREAMBLE = """\
SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
SET default_tablespace = '';
SET default_table_access_method = heap;"""

_ALWAYS_LAST = {"ACL", "DEFAULT ACL", "POLICY", "ROW SECURITY", "VIEW", "MATERIALIZED VIEW", "RULE"}
_ROUTINES = {"FUNCTION", "PROCEDURE", "AGGREGATE"}
_FREE = {"TYPE", "DOMAIN"}  # placed with their first user
_BY_NAME = {"TABLE", "TABLE ATTACH", "INDEX", "INDEX ATTACH", "SEQUENCE", "SEQUENCE OWNED BY"}
_BY_TABLE = {"CONSTRAINT", "FK CONSTRAINT", "CHECK CONSTRAINT", "DEFAULT", "TRIGGER", "POLICY"}
_RELATION_KINDS = ("MATERIALIZED VIEW", "TABLE", "VIEW", "SEQUENCE", "INDEX")
_FORCE = re.compile(r"^ALTER TABLE ONLY public\.(\S+) FORCE ROW LEVEL SECURITY;$", re.M)
_REFERENCE = re.compile(r'\bpublic\."?(\w+)"?')


@dataclass
class Placed:
    entry: Entry
    part: int


@dataclass
class Layout:
    parts: dict[int, list[Entry]]
    notes: dict[int, list[str]] = field(default_factory=dict)  # why objects moved
    left_out: list[Entry] = field(default_factory=list)
    partition_calls: list[str] = field(default_factory=list)

    def note(self, part: int, text: str) -> None:
        self.notes.setdefault(part, [])
        if text not in self.notes[part]:
            self.notes[part].append(text)


def _routine_name(name: str) -> str:
    return name.split("(", 1)[0].strip()


def _relation(entry: Entry) -> str | None:
    """The table, view, sequence or index an entry concerns, when it concerns one."""
    if entry.type in _BY_NAME or entry.type in {"VIEW", "MATERIALIZED VIEW", "ROW SECURITY"}:
        return entry.name
    if entry.type in _BY_TABLE or entry.type == "RULE":
        return entry.table_and_object[0]
    if entry.type in {"ACL", "COMMENT"}:
        for kind in _RELATION_KINDS:
            if entry.name.startswith(kind + " "):
                return entry.name[len(kind) + 1 :]
        if entry.name.startswith("COLUMN "):
            return entry.name[len("COLUMN ") :].split(".", 1)[0]
        match = re.match(r"^(?:CONSTRAINT|TRIGGER|POLICY|RULE) \S+ ON (\S+)$", entry.name)
        if match:
            return match.group(1)
    return None


def _dated(catalog: Catalog, relation: str | None) -> bool:
    """Whether the relation is (or indexes) a dated partition."""
    seen = 0
    while relation is not None and relation in catalog.relations and seen < 10:
        info = catalog.relations[relation]
        if info.partition_bound and info.partition_bound != "DEFAULT":
            return True
        relation = info.parent if info.kind in {"i", "I"} else None
        seen += 1
    return False


def _first_part(entry: Entry, catalog: Catalog) -> int | None:
    """Where an entry goes before dependencies are checked; None: left out."""
    kind, name = entry.type, entry.name
    if kind == "EXTENSION" or (kind == "COMMENT" and name.startswith("EXTENSION ")):
        return None  # created beforehand by an administrator (see the header)
    if kind in _ALWAYS_LAST:
        return SECURITY_PART
    if kind in _ROUTINES:
        return INFRASTRUCTURE_PART if is_infrastructure(_routine_name(name)) else SECURITY_PART
    if kind in _FREE:
        return INFRASTRUCTURE_PART if is_infrastructure(name) else SECURITY_PART
    if kind == "TRIGGER":
        table = entry.table_and_object[0]
        return INFRASTRUCTURE_PART if is_infrastructure(table) else SECURITY_PART
    if kind == "COMMENT":
        if re.match(r"^(?:TRIGGER|POLICY|RULE) ", name):
            return SECURITY_PART
        relation = _relation(entry)
        return part_of_table(catalog.home(relation), catalog) if relation else SECURITY_PART
    if kind in _BY_NAME or kind in _BY_TABLE:
        relation = _relation(entry)
        assert relation is not None
        home = catalog.home(relation)
        info = catalog.relations.get(relation)
        if home == relation and info is not None and info.kind == "S":
            return SECURITY_PART  # a sequence no table owns: placed with its first user
        return part_of_table(home, catalog)
    return SECURITY_PART  # any other kind of object: last, where everything exists


def _references(entry: Entry) -> set[str]:
    sql = entry.sql
    if entry.type in _ROUTINES and "BEGIN ATOMIC" not in sql:
        # bodies are not checked at creation (check_function_bodies = false): the signature only
        sql = sql.split("\n    AS $", 1)[0]
    return set(_REFERENCE.findall(sql))


def _definers(placed: list[Placed]) -> dict[str, Placed]:
    found: dict[str, Placed] = {}
    for item in placed:
        entry = item.entry
        if entry.type in {"TABLE", "VIEW", "MATERIALIZED VIEW", "SEQUENCE", *_FREE}:
            found.setdefault(entry.name, item)
        elif entry.type in _ROUTINES:
            found.setdefault(_routine_name(entry.name), item)
    return found


def _movable(item: Placed, catalog: Catalog) -> bool:
    entry = item.entry
    if entry.type in _ROUTINES or entry.type in _FREE:
        return True
    return entry.type == "SEQUENCE" and catalog.home(entry.name) == entry.name


def _resolve(placed: list[Placed], catalog: Catalog, layout: Layout) -> None:
    """Move what a part needs from a later part: a foreign key goes up to the part of the
    table it references; a function, type or free sequence comes down to its first user."""
    definers = _definers(placed)
    changed = True
    while changed:
        changed = False
        for item in placed:
            if item.entry.type in {"ACL", "COMMENT", "DEFAULT ACL"}:
                continue
            for name in sorted(_references(item.entry)):
                target = definers.get(name)
                if target is None or target is item or target.part <= item.part:
                    continue
                if item.entry.type == "FK CONSTRAINT":
                    table, constraint = item.entry.table_and_object
                    layout.note(
                        target.part,
                        f"foreign key {constraint} of {table} (part {item.part}) is here: "
                        f"it references {name}, created in this part",
                    )
                    layout.note(
                        item.part,
                        f"foreign key {constraint} of {table} is in part {target.part}, which "
                        f"creates {name}, the table it references",
                    )
                    item.part = target.part
                elif _movable(target, catalog):
                    layout.note(
                        item.part,
                        f"{target.entry.type.lower()} {target.entry.name} is here, not in part "
                        f"{target.part}: {item.entry.type.lower()} {item.entry.name} needs it",
                    )
                    target.part = item.part
                else:
                    raise GenerationError(
                        f"{item.entry.type} {item.entry.name} (part {item.part}) refers to "
                        f"{target.entry.type} {name} of the later part {target.part}"
                    )
                changed = True


def _comments_follow(placed: list[Placed]) -> None:
    """A comment on a routine or type sits in the part its object ended up in."""
    parts = {
        (item.entry.type, item.entry.name): item.part
        for item in placed
        if item.entry.type in _ROUTINES or item.entry.type in _FREE
    }
    for item in placed:
        if item.entry.type != "COMMENT":
            continue
        kind, _, name = item.entry.name.partition(" ")
        if (kind, name) in parts:
            item.part = parts[(kind, name)]


def _split_force(entries: list[Entry]) -> list[Entry]:
    """FORCE ROW LEVEL SECURITY comes out of the table's entry and joins ENABLE in part 5."""
    forced: dict[str, str] = {}
    result: list[Entry] = []
    for entry in entries:
        if entry.type == "TABLE" and _FORCE.search(entry.sql):
            for match in _FORCE.finditer(entry.sql):
                forced[match.group(1)] = match.group(0)
            sql = re.sub(r"\n*" + _FORCE.pattern, "", entry.sql, flags=re.M).rstrip()
            entry = replace(entry, sql=sql)
        result.append(entry)
    final: list[Entry] = []
    last = max((e.position for e in entries), default=0.0)
    for entry in result:
        if entry.type == "ROW SECURITY" and entry.name in forced:
            entry = replace(entry, sql=entry.sql + "\n" + forced.pop(entry.name))
        final.append(entry)
    for offset, (table, statement) in enumerate(sorted(forced.items()), start=1):
        header = f"--\n-- Name: {table}; Type: ROW SECURITY; Schema: public; Owner: -\n--\n\n"
        final.append(
            Entry(last + offset / 1000, table, "ROW SECURITY", "public", header + statement)
        )
    return final


def _partition_calls(catalog: Catalog, entries: list[Entry]) -> list[str]:
    """The call that creates the dated partitions left out of the dump."""
    dated = catalog.dated_partitions()
    if not dated:
        return []
    makers = sorted(
        {
            _routine_name(e.name)
            for e in entries
            if e.type == "FUNCTION"
            and _routine_name(e.name).startswith("ensure_")
            and "partition" in e.name
        }
    )
    if len(makers) != 1:
        raise GenerationError(
            f"dated partitions {dated} are created by the migrations relative to their day; "
            f"the generator expects one ensure_*partitions*() function to recreate them, "
            f"found {makers or 'none'}"
        )
    return [f"SELECT count(*) AS partitions_created FROM public.{makers[0]}();"]


def layout(entries: list[Entry], catalog: Catalog) -> Layout:
    entries = _split_force(entries)
    result = Layout(parts={spec.number: [] for spec in PARTS})
    placed: list[Placed] = []
    for entry in entries:
        if _dated(catalog, _relation(entry)):
            result.left_out.append(entry)
            continue
        part = _first_part(entry, catalog)
        if part is None:
            result.left_out.append(entry)
            continue
        placed.append(Placed(entry, part))
    _resolve(placed, catalog, result)
    _comments_follow(placed)
    for item in sorted(placed, key=lambda p: p.entry.position):
        result.parts[item.part].append(item.entry)
    result.partition_calls = _partition_calls(catalog, [p.entry for p in placed])
    return result


# --- rendering -------------------------------------------------------------------------


def _wrap(text: str, indent: str = "") -> list[str]:
    """A comment paragraph; an indented one (a list item) hangs by two more spaces."""
    hang = "  " if indent else ""
    return textwrap.wrap(
        text, width=92, initial_indent="-- " + indent, subsequent_indent="-- " + indent + hang
    )


def _holds(number: int, catalog: Catalog, parts: dict[int, list[Entry]]) -> list[str]:
    lines: list[str] = []
    if number < SECURITY_PART:
        grouped = context_tables(catalog)
        for context in CONTEXTS:
            if context.part == number:
                tables = ", ".join(grouped[context.key]) or "(none)"
                lines += _wrap(f"{context.title}: {tables}.", "  ")
        if number == INFRASTRUCTURE_PART:
            infra = sorted(t for t in catalog.tables if is_infrastructure(t))
            lines += _wrap(
                "The job queue (Procrastinate): its types, functions, tables and triggers: "
                + ", ".join(t for t in infra if t != "alembic_version")
                + ".",
                "  ",
            )
            others = unmodelled_tables(catalog)
            if others:
                lines += _wrap(f"Tables no model declares: {', '.join(others)}.", "  ")
            lines += _wrap(
                "alembic_version, with an INSERT of the current revision "
                f"({', '.join(catalog.revision) or 'none'}), so a database built from the five "
                "parts is recognised as at head.",
                "  ",
            )
        lines += _wrap(
            "With each table: its sequences, defaults, primary key, unique and check "
            "constraints, indexes and foreign keys.",
        )
        return lines
    counts: dict[str, int] = {}
    for entry in parts[number]:
        counts[entry.type] = counts.get(entry.type, 0) + 1
    security = "\n".join(e.sql for e in parts[number] if e.type == "ROW SECURITY")
    enabled = len(re.findall(r"^ALTER TABLE \S+ ENABLE ROW LEVEL SECURITY;$", security, re.M))
    forced = len(_FORCE.findall(security))
    for label, kinds in (
        ("views", ("VIEW",)),
        ("materialized views (created WITH NO DATA, with their indexes)", ("MATERIALIZED VIEW",)),
        ("functions (trigger functions and the others)", tuple(_ROUTINES)),
        ("triggers", ("TRIGGER",)),
        ("row-level security policies", ("POLICY",)),
    ):
        lines += _wrap(f"{sum(counts.get(k, 0) for k in kinds)} {label};", "  ")
    lines += _wrap(
        f"row-level security ENABLEd on {enabled} tables and FORCEd on {forced} "
        "(moved here from the tables' own entries);",
        "  ",
    )
    lines += _wrap(
        f"privileges: {counts.get('ACL', 0)} GRANT/REVOKE entries (the schema, tables, "
        f"columns, sequences and functions, for markettina_app and PUBLIC) and "
        f"{counts.get('DEFAULT ACL', 0)} default privileges.",
        "  ",
    )
    return lines


def _requirements(catalog: Catalog) -> list[str]:
    lines = _wrap(
        "Requires PostgreSQL 15+ and the roles markettina_owner (LOGIN BYPASSRLS, owns every "
        "object) and markettina_app (LOGIN, owns nothing, never bypasses row-level security), "
        "created by `markettina migrate` or `markettina serve`, or by hand as an administrator "
        "(CREATE ROLE markettina_owner LOGIN BYPASSRLS; CREATE ROLE markettina_app LOGIN; "
        "CREATE DATABASE <db> OWNER markettina_owner;). Apply to an EMPTY database, connected "
        "as markettina_owner."
    )
    vector_columns = sorted(
        f"{table}.{column.name}"
        for table, columns in catalog.tables.items()
        for column in columns
        if column.type.startswith("vector")
    )
    if catalog.extensions:
        names = ", ".join(catalog.extensions)
        lines += _wrap(
            f"Extensions ({names}): dumped from a server that has them, and an extension is "
            "created by an administrator, not by the owner: before part 1, as an administrator, "
            + " ".join(f"CREATE EXTENSION IF NOT EXISTS {e};" for e in catalog.extensions)
            + (
                f" ({', '.join(vector_columns)} is a pgvector `vector` here; on a server "
                "without pgvector build the schema with `markettina migrate upgrade`, which "
                "falls back to real[].)"
                if vector_columns
                else ""
            )
        )
    return lines


_APPLY = """\
-- Apply the five parts in this order, stopping at the first error:
--   psql -v ON_ERROR_STOP=1 -d <db> -f docs/database/MARKETTINA_v2_DDL_PART1.sql
--   psql -v ON_ERROR_STOP=1 -d <db> -f docs/database/MARKETTINA_v2_DDL_PART2.sql
--   psql -v ON_ERROR_STOP=1 -d <db> -f docs/database/MARKETTINA_v2_DDL_PART3.sql
--   psql -v ON_ERROR_STOP=1 -d <db> -f docs/database/MARKETTINA_v2_DDL_PART4.sql
--   psql -v ON_ERROR_STOP=1 -d <db> -f docs/database/MARKETTINA_v2_DDL_PART5_VIEWS.sql
-- (or \\i each of them, in the same order, in one psql session). The normal way to build
-- the schema is `markettina migrate upgrade`; these files are its reviewable image."""


def render(spec: PartSpec, result: Layout, catalog: Catalog) -> str:
    rule = "-- " + "=" * 89
    revision = ", ".join(catalog.revision) or "(none)"
    head = [
        rule,
        f"-- MARKETTINA v2 - DDL part {spec.number} of {len(PARTS)}: {spec.title}",
        rule,
        "--",
        *_wrap(
            "Generated by `markettina docs database` from `pg_dump --schema-only --no-owner` "
            f"of a database at revision {revision} (PostgreSQL {catalog.server_major}). Do not "
            "edit: change the migrations, then regenerate."
        ),
        "--",
        "-- Holds:",
        *_holds(spec.number, catalog, result.parts),
    ]
    if spec.number < SECURITY_PART:
        head += _wrap(
            "Triggers, functions, views, row-level security, policies and grants of these "
            "tables are in part 5."
        )
    notes = result.notes.get(spec.number, [])
    if notes:
        head += ["--", "-- Moved between parts, so that no part refers to a later one:"]
        for text in notes:
            head += _wrap("- " + text, "  ")
    if spec.number == SECURITY_PART and result.partition_calls:
        dated = catalog.dated_partitions()
        head += [
            "--",
            *_wrap(
                "The monthly partitions of "
                + ", ".join(dated)
                + " are not dumped (their names depend on the day the migration ran): the "
                "last statement creates them for the current month and the months ahead, as "
                "the migration does."
            ),
        ]
    head += ["--", *_requirements(catalog), "--", *_APPLY.splitlines(), rule]
    body = [entry.sql for entry in result.parts[spec.number]]
    if spec.number == INFRASTRUCTURE_PART and catalog.revision:
        values = ", ".join(f"('{r}')" for r in catalog.revision)
        body.append(
            "--\n-- The schema revision: a database built from these parts is at head\n--\n\n"
            f"INSERT INTO public.alembic_version (version_num) VALUES {values};"
        )
    if spec.number == SECURITY_PART and result.partition_calls:
        body.append(
            "--\n-- Monthly partitions (the maintenance function uses unqualified names)\n--\n\n"
            "SELECT pg_catalog.set_config('search_path', 'public', false);\n"
            + "\n".join(result.partition_calls)
        )
    text = "\n".join(head) + "\n\n" + PREAMBLE + "\n\n\n" + "\n\n\n".join(body) + "\n"
    return text


def render_all(entries: list[Entry], catalog: Catalog) -> dict[str, str]:
    result = layout(entries, catalog)
    return {spec.filename: render(spec, result, catalog) for spec in PARTS}
