"""The five trigger families, each doing its one job in the database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs

pytestmark = pytest.mark.migrations


class Tenant:
    """An account with a user, and a transaction-per-call connection as markettina_app."""

    def __init__(self, urls: DatabaseURLs) -> None:
        with bootstrap.connect(urls.owner) as owner:
            slug = f"t-{uuid.uuid4().hex[:8]}"
            self.account = owner.execute(
                "INSERT INTO accounts (name, slug) VALUES (%s, %s) RETURNING id", (slug, slug)
            ).fetchone()[0]
        self.urls = urls

    def run(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """One statement in its own transaction, scoped to this account."""
        with bootstrap.connect(self.urls.app, autocommit=False) as conn:
            conn.execute("SELECT set_config('app.current_account_id', %s, true)",
                         (str(self.account),))  # fmt: skip
            cursor = conn.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
            conn.commit()
            return rows

    def run_all(self, statements: list[tuple[str, Any]]) -> None:
        """Several statements in one transaction."""
        with bootstrap.connect(self.urls.app, autocommit=False) as conn:
            conn.execute("SELECT set_config('app.current_account_id', %s, true)",
                         (str(self.account),))  # fmt: skip
            for sql, params in statements:
                conn.execute(sql, params)
            conn.commit()


@pytest.fixture
def tenant(fresh_db: DatabaseURLs) -> Iterator[Tenant]:
    yield Tenant(fresh_db)


def _catalog(urls: DatabaseURLs, sql: str) -> set[str]:
    with bootstrap.connect(urls.owner) as conn:
        return {r[0] for r in conn.execute(sql)}


class TestAuditColumns:
    def test_every_updated_at_and_version_column_has_its_trigger(
        self, fresh_db: DatabaseURLs
    ) -> None:
        for column, trigger in (("updated_at", "touch_updated_at"), ("version", "bump_version")):
            tables = _catalog(
                fresh_db,
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                f"JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = '{column}' "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                "AND c.relname NOT LIKE 'procrastinate%'",
            )
            triggered = _catalog(
                fresh_db,
                f"SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = '{trigger}'",
            )
            assert tables and tables <= triggered, column

    def test_update_moves_updated_at_and_version(self, tenant: Tenant) -> None:
        (row,) = tenant.run(
            "INSERT INTO campaigns (account_id, name) VALUES (%s, 'Spring') "
            "RETURNING id, updated_at, version",
            (tenant.account,),
        )
        campaign, created, version = row
        assert version == 1
        (after,) = tenant.run(
            "UPDATE campaigns SET name = 'Summer' WHERE id = %s RETURNING updated_at, version",
            (campaign,),
        )
        assert after[0] > created and after[1] == 2

    def test_stale_version_changes_nothing(self, tenant: Tenant) -> None:
        (row,) = tenant.run(
            "INSERT INTO campaigns (account_id, name) VALUES (%s, 'A') RETURNING id",
            (tenant.account,),
        )
        tenant.run("UPDATE campaigns SET name = 'B' WHERE id = %s AND version = 1", (row[0],))
        stale = tenant.run(
            "UPDATE campaigns SET name = 'C' WHERE id = %s AND version = 1 RETURNING id", (row[0],)
        )
        assert stale == []
        assert tenant.run("SELECT name, version FROM campaigns WHERE id = %s", (row[0],)) == [
            ("B", 2)
        ]


class TestTokenWallet:
    def _wallet(self, tenant: Tenant) -> uuid.UUID:
        return tenant.run(
            "INSERT INTO token_wallets (account_id) VALUES (%s) RETURNING id", (tenant.account,)
        )[0][0]

    def _add(self, tenant: Tenant, wallet: uuid.UUID, kind: str, amount: int) -> int:
        return tenant.run(
            "INSERT INTO token_transactions (account_id, wallet_id, type, amount, balance_after) "
            "VALUES (%s, %s, %s, %s, 0) RETURNING balance_after",
            (tenant.account, wallet, kind, amount),
        )[0][0]

    def test_ledger_keeps_balance_totals_and_balance_after(self, tenant: Tenant) -> None:
        wallet = self._wallet(tenant)
        assert self._add(tenant, wallet, "purchase", 1000) == 1000
        assert self._add(tenant, wallet, "bonus", 100) == 1100
        assert self._add(tenant, wallet, "usage", -50) == 1050
        assert self._add(tenant, wallet, "refund", 20) == 1070
        assert self._add(tenant, wallet, "adjustment", -70) == 1000
        (state,) = tenant.run(
            "SELECT balance, total_purchased, total_used, total_bonus, total_refunded, "
            "last_purchase_at IS NOT NULL, last_usage_at IS NOT NULL FROM token_wallets"
        )
        assert state == (1000, 1000, 50, 100, 20, True, True)
        (ledger,) = tenant.run("SELECT sum(amount) FROM token_transactions")
        assert ledger[0] == 1000

    def test_overdraft_aborts_the_whole_transaction(self, tenant: Tenant) -> None:
        wallet = self._wallet(tenant)
        self._add(tenant, wallet, "purchase", 100)
        insert = (
            "INSERT INTO token_transactions (account_id, wallet_id, type, amount, balance_after) "
            "VALUES (%s, %s, %s, %s, 0)"
        )
        with pytest.raises(psycopg.errors.CheckViolation, match="balance"):
            tenant.run_all(
                [
                    (insert, (tenant.account, wallet, "usage", -60)),
                    (insert, (tenant.account, wallet, "usage", -60)),  # 100 - 120 < 0
                ]
            )
        assert tenant.run("SELECT balance, total_used FROM token_wallets") == [(100, 0)]
        assert tenant.run("SELECT count(*) FROM token_transactions") == [(1,)]

    def test_the_app_cannot_write_balances_directly(self, tenant: Tenant) -> None:
        wallet = self._wallet(tenant)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            tenant.run("UPDATE token_wallets SET balance = 1000000 WHERE id = %s", (wallet,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            tenant.run(
                "INSERT INTO token_wallets (account_id, balance) VALUES (%s, 5)", (tenant.account,)
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            tenant.run("UPDATE token_transactions SET amount = 1")


class TestPromoCodes:
    def test_usage_is_counted_and_refused_past_max_uses(
        self, tenant: Tenant, fresh_db: DatabaseURLs
    ) -> None:
        with bootstrap.connect(fresh_db.owner) as owner:
            code = owner.execute(
                "INSERT INTO promo_codes (code, discount_type, discount_value, max_uses) "
                "VALUES ('SPRING', 'percent', 10, 2) RETURNING id"
            ).fetchone()[0]
        redeem = (
            "INSERT INTO promo_redemptions (account_id, promo_code_id, discount_amount) "
            "VALUES (%s, %s, 100) RETURNING id"
        )
        first = tenant.run(redeem, (tenant.account, code))[0][0]
        tenant.run(redeem, (tenant.account, code))
        with pytest.raises(psycopg.errors.CheckViolation, match="maximum number of uses") as err:
            tenant.run(redeem, (tenant.account, code))
        assert err.value.diag.constraint_name == "ck_promo_codes_current_uses_within_max"
        uses = "SELECT current_uses FROM promo_codes WHERE id = %s"
        assert tenant.run(uses, (code,)) == [(2,)]
        tenant.run("DELETE FROM promo_redemptions WHERE id = %s", (first,))
        assert tenant.run(uses, (code,)) == [(1,)]
        tenant.run(redeem, (tenant.account, code))
        assert tenant.run(uses, (code,)) == [(2,)]


class TestChangeCapture:
    EVENTS = (
        "SELECT aggregate_type, aggregate_id, event_type, event_data -> 'changed' "
        "FROM domain_events WHERE metadata ->> 'source' = 'change_capture' "
        "ORDER BY created_at, event_type"
    )

    def test_leads_campaigns_and_brand_dna_write_events(self, tenant: Tenant) -> None:
        lead = tenant.run(
            "INSERT INTO leads (account_id, name) VALUES (%s, 'Bob') RETURNING id",
            (tenant.account,),
        )[0][0]
        tenant.run("UPDATE leads SET status = 'QUALIFIED', score = 60 WHERE id = %s", (lead,))
        tenant.run("UPDATE leads SET score = 60 WHERE id = %s", (lead,))  # no change: no event
        tenant.run("UPDATE leads SET deleted_at = now() WHERE id = %s", (lead,))
        campaign = tenant.run(
            "INSERT INTO campaigns (account_id, name) VALUES (%s, 'C') RETURNING id",
            (tenant.account,),
        )[0][0]
        tenant.run(
            "INSERT INTO brand_dna (account_id, company_name) VALUES (%s, 'Acme')",
            (tenant.account,),
        )
        tenant.run("UPDATE brand_dna SET tagline = 'Better'")
        tenant.run("DELETE FROM campaigns WHERE id = %s", (campaign,))

        events = tenant.run(self.EVENTS)
        assert [(e[0], e[2]) for e in events] == [
            ("lead", "lead.created"),
            ("lead", "lead.updated"),
            ("lead", "lead.deleted"),
            ("campaign", "campaign.created"),
            ("brand_dna", "brand_dna.created"),
            ("brand_dna", "brand_dna.updated"),
            ("campaign", "campaign.erased"),
        ]
        assert events[0][1] == str(lead)
        assert events[1][3] == ["score", "status"]
        assert events[5][3] == ["tagline"]

    def test_events_belong_to_the_changed_rows_account(
        self, tenant: Tenant, fresh_db: DatabaseURLs
    ) -> None:
        other = Tenant(fresh_db)
        tenant.run("INSERT INTO leads (account_id, name) VALUES (%s, 'Mine')", (tenant.account,))
        assert other.run("SELECT count(*) FROM domain_events") == [(0,)]
        assert tenant.run("SELECT count(*) FROM domain_events") == [(1,)]
