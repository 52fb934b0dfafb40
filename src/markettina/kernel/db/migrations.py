"""Alembic driven from code: the CLI, the service start-up and the tests all come here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

import markettina


class MigrationError(RuntimeError):
    """A migration failed; the database stays at the revision it had before."""


def migrations_dir() -> Path:
    package = Path(markettina.__file__).resolve().parent
    for candidate in (package / "migrations", package.parents[1] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("the Alembic migrations folder was not found next to the package")


def alembic_config(owner_url: URL | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if owner_url is not None:
        config.attributes["url"] = owner_url
    return config


@cache
def heads() -> tuple[str, ...]:
    """The code's head revisions (read once per process: loading the scripts is slow)."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def current(owner_url: URL) -> tuple[str, ...]:
    engine = create_engine(owner_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def _run(action: str, owner_url: URL, revision: str) -> None:
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
