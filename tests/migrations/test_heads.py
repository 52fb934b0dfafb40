"""Whether a database is at head, answered without Alembic: the code's heads read from the
migration files equal Alembic's, and a start-up at head loads none of Alembic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from markettina.kernel.db import migrations
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.databases import SuiteDatabases

pytestmark = pytest.mark.migrations


def _alembic_heads(location: Path) -> tuple[str, ...]:
    config = Config()
    config.set_main_option("script_location", str(location))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def test_the_code_heads_are_alembics() -> None:
    assert migrations.heads() == _alembic_heads(migrations.migrations_dir())


def _migration(folder: Path, revision: str, down: object, *, annotated: bool = True) -> None:
    kind = ": str | None" if annotated else ""
    (folder / f"{revision}.py").write_text(
        f'"""{revision}"""\n\nrevision{kind} = {revision!r}\ndown_revision{kind} = {down!r}\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n"
    )


def test_branches_and_merges_as_alembic_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (tmp_path / "env.py").write_text("")
    (tmp_path / "script.py.mako").write_text("")
    _migration(versions, "a1", None)
    _migration(versions, "b1", "a1")
    _migration(versions, "b2", "a1", annotated=False)
    monkeypatch.setattr(migrations, "migrations_dir", lambda: tmp_path)
    migrations.heads.cache_clear()
    try:
        assert migrations.heads() == ("b1", "b2") == _alembic_heads(tmp_path)
        _migration(versions, "c1", ("b1", "b2"))
        migrations.heads.cache_clear()
        assert migrations.heads() == ("c1",) == _alembic_heads(tmp_path)
    finally:
        migrations.heads.cache_clear()


def test_a_migration_without_literal_revisions_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "x.py").write_text("revision = make_one()\ndown_revision = None\n")
    monkeypatch.setattr(migrations, "migrations_dir", lambda: tmp_path)
    migrations.heads.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"x\.py"):
            migrations.heads()
    finally:
        migrations.heads.cache_clear()


def _upgrade_in_a_fresh_process(urls: DatabaseURLs) -> dict[str, object]:
    """``upgrade_if_behind`` as ``serve`` calls it, in an interpreter of its own."""
    code = (
        "import json, sys\n"
        "from sqlalchemy.engine import make_url\n"
        "from markettina.kernel.db import migrations\n"
        "upgraded = migrations.upgrade_if_behind(make_url(sys.argv[1]))\n"
        "print(json.dumps({'upgraded': upgraded, 'current': migrations.current(make_url("
        "sys.argv[1])), 'alembic': 'alembic' in sys.modules}))\n"
    )
    owner = urls.owner.render_as_string(hide_password=False)
    out = subprocess.run(
        [sys.executable, "-c", code, owner], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


def test_a_start_at_head_loads_no_alembic(fresh_db: DatabaseURLs) -> None:
    result = _upgrade_in_a_fresh_process(fresh_db)
    assert result == {"upgraded": False, "current": list(migrations.heads()), "alembic": False}


def test_a_start_behind_head_upgrades(databases: SuiteDatabases) -> None:
    urls = databases.empty("behind_start")
    try:
        assert migrations.current(urls.owner) == ()
        result = _upgrade_in_a_fresh_process(urls)
    finally:
        databases.drop(urls)
    assert result == {"upgraded": True, "current": list(migrations.heads()), "alembic": True}


def test_an_unreadable_revision_is_a_migration_error() -> None:
    from sqlalchemy.engine import make_url

    from tests.support.processes import free_port

    nowhere = make_url(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing")
    with pytest.raises(migrations.MigrationError, match="cannot read the schema revision"):
        migrations.upgrade_if_behind(nowhere)
