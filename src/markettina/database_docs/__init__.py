"""The generated database documentation in docs/database/, from the live catalog.

``generate`` reads one database (as its owner) and writes the five DDL parts (pg_dump's
objects, placed by context), the Mermaid ER diagram, the ER overview, the DDD mapping and
the README. The output depends only on the schema, so the same schema gives the same bytes;
``tests/test_database_docs.py`` checks the committed files against it. ``decisions.md`` and
``differences.md`` in the same folder are written by hand and never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from markettina.database_stats import collect
from markettina.kernel.db.urls import as_libpq_url, as_sqlalchemy_url

from . import catalog as catalog_module
from . import ddd_mapping, ddl_parts, dump, er_diagram, er_schema, readme
from .ddl_parts import PARTS, GenerationError
from .dump import DumpError

ER_DIAGRAM = "MARKETTINA_v2_ER_DIAGRAM.mmd"
ER_SCHEMA = "MARKETTINA_v2_ER_SCHEMA.md"
DDD_MAPPING = "MARKETTINA_v2_DDD_MAPPING.md"
README = "README.md"
DDL_FILES = tuple(spec.filename for spec in PARTS)
FILES = (README, ER_SCHEMA, ER_DIAGRAM, DDD_MAPPING, *DDL_FILES)


def libpq_url(url: URL | str) -> str:
    return as_libpq_url(as_sqlalchemy_url(url))


def render(owner_url: URL | str) -> dict[str, str]:
    """Every generated file's name and text, from the database at ``owner_url``."""
    address = libpq_url(owner_url)
    with psycopg.connect(address, autocommit=True) as conn:
        connection: psycopg.Connection[Any] = conn
        schema = catalog_module.read(connection)
        statistics = collect(connection)
    if not schema.revision:
        raise GenerationError("the database has no alembic_version: migrate it first")
    entries = dump.split(dump.pg_dump_schema(address))
    files = ddl_parts.render_all(entries, schema)
    files[ER_DIAGRAM] = er_diagram.render(schema)
    files[ER_SCHEMA] = er_schema.render(schema)
    files[DDD_MAPPING] = ddd_mapping.render(schema)
    files[README] = readme.render(schema, statistics)
    return {name: files[name] for name in FILES}


def generate(
    owner_url: URL | str,
    out_dir: Path,
    *,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write the documentation of the database at ``owner_url`` into ``out_dir``."""
    files = render(owner_url)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = out_dir / name
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        written.append(path)
        if on_file is not None:
            on_file(path)
    return written


def main_docs(
    owner_url: URL | str,
    out_dir: Path | str,
    *,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """The ``markettina docs database`` command's work: the files written, in order."""
    return generate(owner_url, Path(out_dir), on_file=on_file)


__all__ = [
    "FILES",
    "DumpError",
    "GenerationError",
    "generate",
    "main_docs",
    "render",
]
