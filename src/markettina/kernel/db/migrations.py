"""Alembic driven from code: the CLI, the service start-up and the tests all come here.

Alembic is imported only to move the schema or read its history. Whether the database is
at head (every ``serve`` and ``worker`` start, the readiness probe) is answered without
it: the code's heads from the revision identifiers the migration files declare (read,
not imported), the database's from ``alembic_version``. Loading Alembic's script
machinery (Mako, Pygments, every migration module) cost a start-up 0.3 to 0.5 s of CPU.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy.engine import URL

import markettina

from .urls import as_libpq_url

if TYPE_CHECKING:
    from alembic.config import Config


class MigrationError(RuntimeError):
    """A migration failed; the database stays at the revision it had before."""


def migrations_dir() -> Path:
    package = Path(markettina.__file__).resolve().parent
    for candidate in (package / "migrations", package.parents[1] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("the Alembic migrations folder was not found next to the package")


def alembic_config(owner_url: URL | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if owner_url is not None:
        config.attributes["url"] = owner_url
    return config


_DECLARED = ("revision", "down_revision")


def _declared(path: Path) -> dict[str, Any]:
    """The ``revision`` and ``down_revision`` a migration file assigns (literals, as
    Alembic's template writes them), read from its syntax tree."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_bytes(), str(path)).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in _DECLARED:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                break
    if "revision" not in found or "down_revision" not in found:
        raise ValueError(f"{path.name} declares no literal revision and down_revision")
    return found


@cache
def heads() -> tuple[str, ...]:
    """The code's head revisions: those no migration names as its ``down_revision``
    (read once per process; tests hold it equal to Alembic's own answer)."""
    revisions: set[str] = set()
    below: set[str] = set()
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        declared = _declared(path)
        revisions.add(declared["revision"])
        down = declared["down_revision"]
        below.update([down] if isinstance(down, str) else down or ())
    return tuple(sorted(revisions - below))


def current(owner_url: URL) -> tuple[str, ...]:
    """The revisions the database is at (none before the first migration)."""
    with psycopg.connect(as_libpq_url(owner_url), autocommit=True) as connection:
        (exists,) = connection.execute(
            "SELECT to_regclass('alembic_version') IS NOT NULL"
        ).fetchone() or (False,)
        if not exists:
            return ()
        rows = connection.execute("SELECT version_num FROM alembic_version")
        return tuple(sorted(row[0] for row in rows))


def upgrade_if_behind(owner_url: URL) -> bool:
    """Upgrade to head unless the database is there already (the usual start: no Alembic
    loaded); whether it upgraded. Alembic's own run takes the migration lock, so
    concurrent start-ups still migrate once."""
    try:
        at = current(owner_url)
    except psycopg.Error as exc:
        raise MigrationError(f"cannot read the schema revision: {exc}".strip()) from exc
    if set(at) == set(heads()):
        return False
    upgrade(owner_url, "head")
    return True


def _run(action: str, owner_url: URL, revision: str) -> None:
    from alembic import command

    config = alembic_config(owner_url)
    try:
        getattr(command, action)(config, revision)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MigrationError(f"{action} to {revision} failed: {message}") from exc


def upgrade(owner_url: URL, revision: str = "head") -> None:
    _run("upgrade", owner_url, revision)


def downgrade(owner_url: URL, revision: str) -> None:
    _run("downgrade", owner_url, revision)


@dataclass(frozen=True)
class RevisionInfo:
    revision: str
    down_revision: str | None
    message: str
    is_head: bool


def history() -> list[RevisionInfo]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    result = []
    for rev in script.walk_revisions():
        down = rev.down_revision
        result.append(
            RevisionInfo(
                revision=rev.revision,
                down_revision=down if isinstance(down, str) or down is None else ",".join(down),
                message=rev.doc or "",
                is_head=rev.is_head,
            )
        )
    return result
