"""Revision 0026 on a database holding leads: stored e-mails are normalised, the upgrade
stops (naming how many) when two live leads of an account share an address, changes of
captured rows write the same events, and the downgrade gives back 0025's schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from markettina.kernel.db import bootstrap, migrations
from markettina.kernel.db.migrations import MigrationError
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.databases import SuiteDatabases

pytestmark = pytest.mark.migrations

BEFORE = "0025_public_templates"
AFTER = "0026_lead_pipeline"


@pytest.fixture
def database(databases: SuiteDatabases) -> Iterator[DatabaseURLs]:
    urls = databases.empty("lead_pipeline")
    migrations.upgrade(urls.owner, BEFORE)
    yield urls
    databases.drop(urls)


def _account(urls: DatabaseURLs) -> uuid.UUID:
    with bootstrap.connect(urls.owner) as conn:
        row = conn.execute(
            "INSERT INTO accounts (name, slug) VALUES ('a', %s) RETURNING id",
            (f"a-{uuid.uuid4().hex[:8]}",),
        ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[return-value]


def _leads(
    urls: DatabaseURLs, account: uuid.UUID, *emails: str | None, deleted: bool = False
) -> None:
    with bootstrap.connect(urls.owner) as conn:
        for email in emails:
            conn.execute(
                "INSERT INTO leads (account_id, name, email, deleted_at) VALUES (%s, 'x', %s, "
                "CASE WHEN %s THEN now() END)",
                (account, email, deleted),
            )


def test_emails_are_normalised_and_the_round_trip_keeps_them(database: DatabaseURLs) -> None:
    account = _account(database)
    _leads(database, account, " Mixed@Case.IO ", "", None)
    _leads(database, account, "mixed@case.io", deleted=True)  # a deleted one may share it
    migrations.upgrade(database.owner, AFTER)
    with bootstrap.connect(database.owner) as conn:
        emails = conn.execute("SELECT email FROM leads ORDER BY id").fetchall()
        assert [e for (e,) in emails] == ["mixed@case.io", None, None, "mixed@case.io"]
        conn.execute("UPDATE leads SET name = 'y' WHERE email IS NULL")
        changed = conn.execute(
            "SELECT event_data -> 'changed' FROM domain_events WHERE event_type = 'lead.updated' "
            "AND metadata ->> 'source' = 'change_capture' ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        assert changed == (["name"],)
    migrations.downgrade(database.owner, BEFORE)
    migrations.upgrade(database.owner, AFTER)


def test_live_leads_sharing_an_address_stop_the_upgrade(database: DatabaseURLs) -> None:
    account = _account(database)
    _leads(database, account, "Same@x.io", "same@x.io ")
    _leads(database, _account(database), "same@x.io")  # another account's: no conflict
    with pytest.raises(MigrationError, match="1 e-mail addresses are shared"):
        migrations.upgrade(database.owner, AFTER)
