"""Revision 0020: EXECUTE granted function by function; its downgrade gives back the grants
and default privileges exactly as they were."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory

from markettina.kernel.db import bootstrap, migrations
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.databases import SuiteDatabases

pytestmark = pytest.mark.migrations

REVISION = "0020_explicit_function_grants"

_FUNCTION_GRANTS = """
SELECT p.oid::regprocedure::text, a.grantee::regrole::text, a.privilege_type
FROM pg_proc p
CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
WHERE p.pronamespace = 'public'::regnamespace
  -- an extension's functions (pgvector's, where the server has it) belong to the
  -- administrator who created it, and stay PUBLIC's: the owner can neither grant nor revoke
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""
_DEFAULT_PRIVILEGES = """
SELECT d.defaclrole::regrole::text, d.defaclnamespace, d.defaclobjtype,
       a.grantee::regrole::text, a.privilege_type
FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
"""


def _grants(urls: DatabaseURLs) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    with bootstrap.connect(urls.admin) as conn:
        functions = set(conn.execute(_FUNCTION_GRANTS).fetchall())
        defaults = set(conn.execute(_DEFAULT_PRIVILEGES).fetchall())
    return functions, defaults


def _before() -> str:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    down = script.get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


@pytest.fixture
def before_db(databases: SuiteDatabases) -> Iterator[DatabaseURLs]:
    urls = databases.empty("grants")
    migrations.upgrade(urls.owner, _before())
    yield urls
    databases.drop(urls)


def test_the_downgrade_gives_back_every_grant(before_db: DatabaseURLs) -> None:
    before = _grants(before_db)
    migrations.upgrade(before_db.owner, REVISION)
    after = _grants(before_db)
    assert after != before
    migrations.downgrade(before_db.owner, _before())
    assert _grants(before_db) == before


def test_the_upgrade_leaves_public_no_function_and_no_default(before_db: DatabaseURLs) -> None:
    functions, defaults = _grants(before_db)
    assert any(grantee == "-" for _, grantee, _ in functions)  # PUBLIC had some before
    migrations.upgrade(before_db.owner, REVISION)
    functions, defaults = _grants(before_db)
    assert [f for f, grantee, _ in functions if grantee == "-"] == []
    assert [d for d in defaults if d[2] == "f" and d[3] != "markettina_owner"] == []
