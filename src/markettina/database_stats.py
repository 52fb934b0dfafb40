"""The figures the seed document promises, counted from the live catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from .schema import V1_TABLES, context_of

# the seed's statistics table, as floors
SEED_FLOORS = {
    "bounded contexts": 9,
    "new tables": 45,
    "materialized views": 6,
    "indexes": 80,
    "trigger families": 5,
    "RLS policies": 10,
}

_OWN_TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND c.relname <> 'alembic_version' AND c.relname NOT LIKE 'procrastinate\\_%'
"""
_COUNTS = {
    "materialized views": (
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'm'"
    ),
    "indexes": (
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
        "AND c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition "
        "AND c.relname NOT LIKE 'procrastinate\\_%' AND c.relname <> 'alembic_version'"
    ),
    # one family = one trigger function, however many tables it is attached to
    "trigger families": (
        "SELECT count(DISTINCT t.tgfoid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
        "AND NOT t.tgisinternal AND c.relname NOT LIKE 'procrastinate\\_%'"
    ),
    "RLS policies": (
        "SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
    ),
}


@dataclass(frozen=True)
class Statistic:
    metric: str
    count: int
    floor: int

    @property
    def met(self) -> bool:
        return self.count >= self.floor

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "count": self.count, "floor": self.floor, "met": self.met}


def collect(conn: psycopg.Connection[Any]) -> list[Statistic]:
    tables = [row[0] for row in conn.execute(_OWN_TABLES)]
    contexts = {context_of(name) for name in tables} - {None}
    counts = {
        "bounded contexts": len(contexts),
        "new tables": len([t for t in tables if t not in V1_TABLES]),
    }
    for metric, query in _COUNTS.items():
        row = conn.execute(query).fetchone()
        counts[metric] = int(row[0]) if row else 0
    return [Statistic(metric, counts[metric], floor) for metric, floor in SEED_FLOORS.items()]
