"""docs/database/ is what `markettina docs database` makes of a database at head; its five
DDL parts rebuild the migrations' schema; its ER diagram draws every table and reference."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import ForeignKeyConstraint

from markettina.database_docs import DDL_FILES, ER_DIAGRAM, FILES, README, generate
from markettina.database_docs.dump import normalized_schema, pg_binary
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from markettina.schema import metadata
from tests.support.databases import SuiteDatabases

DOCS = Path(__file__).resolve().parents[1] / "docs" / "database"
REGENERATE = "run `markettina docs database` (on a database at head) and commit the result"


@pytest.fixture(scope="module")
def generated(template_db: DatabaseURLs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("database_docs")
    written = generate(template_db.owner, out)
    assert [p.name for p in written] == list(FILES)
    return out


def _server_of(readme: str) -> tuple[str, bool]:
    match = re.search(r"\(PostgreSQL (\d+)\)", readme)
    return (match.group(1) if match else "?"), "CREATE EXTENSION IF NOT EXISTS vector" in readme


def test_committed_files_are_what_the_command_generates(generated: Path) -> None:
    committed_readme = DOCS / README
    assert committed_readme.exists(), f"docs/database/{README} is missing: {REGENERATE}"
    # the dump depends on the server: compare only against a server like the one they came from
    expected_server = _server_of(committed_readme.read_text(encoding="utf-8"))
    actual_server = _server_of((generated / README).read_text(encoding="utf-8"))
    if expected_server != actual_server:
        pytest.skip(
            f"the committed docs come from PostgreSQL {expected_server[0]} "
            f"(pgvector: {expected_server[1]}); this server is {actual_server[0]} "
            f"(pgvector: {actual_server[1]})"
        )
    stale = []
    for name in FILES:
        committed = DOCS / name
        if not committed.exists() or committed.read_bytes() != (generated / name).read_bytes():
            stale.append(name)
    assert not stale, f"docs/database/ is out of date ({', '.join(stale)}): {REGENERATE}"


def _psql(url: str, path: Path) -> None:
    result = subprocess.run(
        [str(pg_binary("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{path.name} failed to apply:\n{result.stderr}"


def _revision(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


def _first_difference(expected: str, actual: str) -> str:
    import difflib

    diff = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "migrations", "ddl parts", lineterm="", n=2
    )
    return "\n".join(list(diff)[:60])


def test_ddl_parts_rebuild_the_migrated_schema(
    generated: Path, databases: SuiteDatabases, template_db: DatabaseURLs
) -> None:
    target = databases.empty("ddl")
    try:
        owner = as_libpq_url(target.owner)
        for name in DDL_FILES:
            _psql(owner, generated / name)
        expected = normalized_schema(as_libpq_url(template_db.owner))
        actual = normalized_schema(owner)
        assert actual == expected, _first_difference(expected, actual)
        assert _revision(owner) == _revision(as_libpq_url(template_db.owner))
    finally:
        databases.drop(target)


def test_er_diagram_draws_every_table_and_foreign_key(generated: Path) -> None:
    diagram = (generated / ER_DIAGRAM).read_text(encoding="utf-8")
    assert diagram.startswith("erDiagram\n")
    entities = set(re.findall(r"^    (\w+) \{$", diagram, re.M))
    assert entities >= set(metadata.tables), set(metadata.tables) - entities
    lines = set(re.findall(r'^    (\w+) \S+ (\w+) : "\w+ \(([^)]*)\)"$', diagram, re.M))
    missing = []
    for table in metadata.tables.values():
        for fk in table.constraints:
            if isinstance(fk, ForeignKeyConstraint):
                key = (fk.referred_table.name, table.name, ", ".join(fk.column_keys))
                if key not in lines:
                    missing.append(key)
    assert not missing, missing
