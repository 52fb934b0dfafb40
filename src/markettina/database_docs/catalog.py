"""What the documents say about the schema, read once from the live catalog (schema public)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg

INFRASTRUCTURE_PREFIX = "procrastinate_"
ALEMBIC_TABLE = "alembic_version"


def is_infrastructure(table: str) -> bool:
    """The job queue's tables and Alembic's: in the database, declared by no model."""
    return table.startswith(INFRASTRUCTURE_PREFIX) or table == ALEMBIC_TABLE


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    generated: bool


@dataclass(frozen=True)
class Constraint:
    table: str
    name: str
    kind: str  # p primary key, u unique, c check, x exclusion, f foreign key
    definition: str
    columns: tuple[str, ...]
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None  # a, r, c, n, d (pg_constraint.confdeltype)


@dataclass(frozen=True)
class UniqueIndex:
    table: str
    name: str
    definition: str


@dataclass(frozen=True)
class Index:
    table: str
    name: str
    columns: tuple[str | None, ...]  # None for an expression
    predicate: str | None
    unique: bool


@dataclass(frozen=True)
class Trigger:
    table: str
    name: str
    function: str
    definition: str
    arguments: tuple[str, ...]
    function_source: str


@dataclass(frozen=True)
class Policy:
    table: str
    name: str
    using: str | None
    check: str | None


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str  # pg_class.relkind
    parent: str | None  # the table of an index or owned sequence, the root of a partition
    partition_bound: str | None = None


@dataclass
class Catalog:
    server_major: int
    revision: tuple[str, ...]
    extensions: tuple[str, ...]
    relations: dict[str, Relation]
    tables: dict[str, list[Column]]  # ordinary and partitioned tables, not partitions
    constraints: list[Constraint]
    unique_indexes: list[UniqueIndex]
    indexes: list[Index]  # of tables, partitioned tables and materialized views
    triggers: list[Trigger]
    policies: dict[str, list[Policy]]  # table (or partition) -> its policies
    rls: dict[str, tuple[bool, bool]]  # table -> (enabled, forced)
    partition_keys: dict[str, str]
    functions: list[str]  # names of the schema's own functions (not an extension's)
    views: list[str] = field(default_factory=list)
    barrier_views: list[str] = field(default_factory=list)  # WITH (security_barrier)
    materialized_views: list[str] = field(default_factory=list)

    def home(self, relation: str) -> str:
        """The table (or view) a relation belongs to: an index's or owned sequence's table,
        a partition's root; a table is its own home."""
        seen = set()
        while relation in self.relations and relation not in seen:
            seen.add(relation)
            parent = self.relations[relation].parent
            if parent is None:
                break
            relation = parent
        return relation

    def column(self, table: str, name: str) -> Column | None:
        return next((c for c in self.tables.get(table, []) if c.name == name), None)

    def is_tenant_table(self, table: str) -> bool:
        """A table every row of which belongs to one account (account_id NOT NULL)."""
        column = self.column(table, "account_id")
        return column is not None and column.not_null

    def is_aggregate_root(self, table: str) -> bool:
        """Soft-deletable and optimistically locked: deleted_at and version."""
        return (
            self.column(table, "deleted_at") is not None
            and self.column(table, "version") is not None
        )

    def primary_key(self, table: str) -> tuple[str, ...]:
        for constraint in self.constraints:
            if constraint.table == table and constraint.kind == "p":
                return constraint.columns
        return ()

    def foreign_keys(self, table: str | None = None) -> list[Constraint]:
        return [
            c for c in self.constraints if c.kind == "f" and (table is None or c.table == table)
        ]

    def unindexed_foreign_keys(self) -> list[Constraint]:
        """Foreign keys no index leads with (in any order of the key's columns)."""
        missing = []
        for fk in self.foreign_keys():
            wanted = set(fk.columns)
            covered = any(
                index.table == fk.table and set(index.columns[: len(wanted)]) == wanted
                for index in self.indexes
            )
            if not covered:
                missing.append(fk)
        return missing

    def dated_partitions(self) -> dict[str, list[str]]:
        """Partitions with a range bound (monthly ones), per partitioned table: they are
        created relative to the day of the migration, so the documents leave them out."""
        found: dict[str, list[str]] = {}
        for relation in self.relations.values():
            bound = relation.partition_bound
            if relation.kind in {"r", "p"} and bound and bound != "DEFAULT":
                found.setdefault(self.home(relation.name), []).append(relation.name)
        return {parent: sorted(names) for parent, names in sorted(found.items())}


_RELATIONS = """
SELECT c.relname, c.relkind::text,
       CASE WHEN c.relispartition
            THEN (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                  WHERE i.inhrelid = c.oid) END,
       (SELECT t.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE i.indexrelid = c.oid),
       (SELECT t.relname FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
        WHERE c.relkind = 'S' AND d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        ORDER BY t.relname LIMIT 1),
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
ORDER BY c.relname
"""

_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.attgenerated <> ''
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

_CONSTRAINTS = """
SELECT c.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid, true),
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord),
       f.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.ord),
       nullif(con.confdeltype::text, ' ')
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class f ON f.oid = con.confrelid
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND con.contype IN ('p', 'u', 'c', 'x', 'f') AND con.conparentid = 0
ORDER BY c.relname, con.conname
"""

_UNIQUE_INDEXES = """
SELECT t.relname, ic.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND i.indisunique AND t.relkind IN ('r', 'p')
  AND NOT t.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
ORDER BY t.relname, ic.relname
"""

_INDEXES = """
SELECT t.relname, ic.relname,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
             ORDER BY k.ord),
       pg_get_expr(i.indpred, i.indrelid), i.indisunique
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND t.relkind IN ('r', 'p', 'm') AND NOT t.relispartition
ORDER BY t.relname, ic.relname
"""

_TRIGGERS = """
SELECT c.relname, t.tgname, p.proname, pg_get_triggerdef(t.oid), t.tgargs, p.prosrc
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid
WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgparentid = 0
ORDER BY c.relname, t.tgname
"""

_POLICIES = """
SELECT c.relname, p.polname, pg_get_expr(p.polqual, p.polrelid),
       pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
ORDER BY c.relname, p.polname
"""

_RLS = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""

_PARTITION_KEYS = """
SELECT c.relname, pg_get_partkeydef(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'p' ORDER BY c.relname
"""

_BARRIER_VIEWS = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'v'
  AND 'security_barrier=true' = ANY (coalesce(c.reloptions, '{}'))
ORDER BY c.relname
"""

_FUNCTIONS = """
SELECT DISTINCT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY p.proname
"""


def _rows(conn: psycopg.Connection[Any], query: str) -> list[tuple[Any, ...]]:
    return list(conn.execute(query).fetchall())


def _arguments(raw: bytes | None) -> tuple[str, ...]:
    if not raw:
        return ()
    return tuple(part.decode() for part in raw.split(b"\x00")[:-1])


def read(conn: psycopg.Connection[Any]) -> Catalog:
    """Everything the documents need; names are unqualified (search_path = public)."""
    conn.execute("SELECT set_config('search_path', 'public', false)")
    version = conn.execute("SHOW server_version_num").fetchone()
    server_major = int(version[0]) // 10000 if version else 0
    relations = {
        name: Relation(name, kind, index_table or root or sequence_table, bound)
        for name, kind, root, index_table, sequence_table, bound in _rows(conn, _RELATIONS)
    }
    revision: tuple[str, ...] = ()
    if ALEMBIC_TABLE in relations:
        revision = tuple(
            row[0] for row in _rows(conn, "SELECT version_num FROM alembic_version ORDER BY 1")
        )
    tables: dict[str, list[Column]] = {}
    for table, name, type_, not_null, generated in _rows(conn, _COLUMNS):
        tables.setdefault(table, []).append(Column(name, type_, not_null, generated))
    constraints = [
        Constraint(table, name, kind, definition, tuple(cols), ref, tuple(ref_cols), on_delete)
        for table, name, kind, definition, cols, ref, ref_cols, on_delete in _rows(
            conn, _CONSTRAINTS
        )
    ]
    policies: dict[str, list[Policy]] = {}
    for table, name, using, check in _rows(conn, _POLICIES):
        policies.setdefault(table, []).append(Policy(table, name, using, check))
    kinds = {r.name: r.kind for r in relations.values()}
    return Catalog(
        server_major=server_major,
        revision=revision,
        extensions=tuple(
            row[0]
            for row in _rows(
                conn, "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1"
            )
        ),
        relations=relations,
        tables=tables,
        constraints=constraints,
        unique_indexes=[UniqueIndex(*row) for row in _rows(conn, _UNIQUE_INDEXES)],
        indexes=[
            Index(table, name, tuple(columns), predicate, unique)
            for table, name, columns, predicate, unique in _rows(conn, _INDEXES)
        ],
        triggers=[
            Trigger(table, name, function, definition, _arguments(args), source)
            for table, name, function, definition, args, source in _rows(conn, _TRIGGERS)
        ],
        policies=policies,
        rls={table: (enabled, forced) for table, enabled, forced in _rows(conn, _RLS)},
        partition_keys=dict(_rows(conn, _PARTITION_KEYS)),
        functions=[row[0] for row in _rows(conn, _FUNCTIONS)],
        views=sorted(name for name, kind in kinds.items() if kind == "v"),
        materialized_views=sorted(name for name, kind in kinds.items() if kind == "m"),
        barrier_views=[row[0] for row in _rows(conn, _BARRIER_VIEWS)],
    )


def writes_domain_events(trigger: Trigger) -> bool:
    """A change-capture trigger: its function inserts into domain_events."""
    return (
        re.search(r"\bINSERT\s+INTO\s+(?:public\.)?domain_events\b", trigger.function_source, re.I)
        is not None
    )


def change_capture_actions(trigger: Trigger) -> list[str]:
    """The actions a change-capture function names (``action := 'created'`` and the
    branches of ``action := CASE ... END``), in the order they appear."""
    found: list[str] = []
    for match in re.finditer(
        r"\baction\s*:=\s*(CASE\b.*?\bEND\b|'[^']*')", trigger.function_source, re.I | re.S
    ):
        literal = match.group(1)
        values = (
            re.findall(r"\b(?:THEN|ELSE)\s+'([^']*)'", literal, re.I)
            if literal.upper().startswith("CASE")
            else [literal.strip("'")]
        )
        found.extend(v for v in values if v not in found)
    return found
