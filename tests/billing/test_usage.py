"""The wallet, the ledger page by page and monthly usage, over HTTP."""

from __future__ import annotations

import datetime as dt

import httpx

from markettina.billing.usage import first_month
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member


def _entry(db: DatabaseURLs, member: Member, type: str, amount: int, *,
           service: str | None = None, at: str = "now()") -> None:  # fmt: skip
    sql(db, "INSERT INTO token_transactions (account_id, wallet_id, type, amount, service_type,"
        f" description, created_at) SELECT account_id, id, %s, %s, %s, 'test', {at}"
        " FROM token_wallets WHERE account_id = %s", type, amount, service,
        member.account_id)  # fmt: skip


def _funded(db: DatabaseURLs, role: str = "viewer") -> Member:
    account = new_account(db)
    sql(db, "INSERT INTO token_wallets (account_id) VALUES (%s)", account)
    member = new_member(db, account, role)
    _entry(db, member, "purchase", 1000, at="now() - interval '100 days'")
    return member


def test_first_month() -> None:
    assert first_month(1, dt.date(2026, 3, 15)) == dt.date(2026, 3, 1)
    assert first_month(3, dt.date(2026, 2, 1)) == dt.date(2025, 12, 1)
    assert first_month(14, dt.date(2026, 2, 28)) == dt.date(2025, 1, 1)


async def test_wallet_shows_balance_and_totals(db: DatabaseURLs, client: httpx.AsyncClient) -> None:
    member = _funded(db)
    _entry(db, member, "usage", -30, service="text_generation")
    _entry(db, member, "bonus", 5)
    wallet = (await client.get("/v1/billing/wallet", headers=member.headers)).json()
    assert {k: wallet[k] for k in ("balance", "total_purchased", "total_used", "total_bonus")} == {
        "balance": 975, "total_purchased": 1000, "total_used": 30, "total_bonus": 5,
    }  # fmt: skip
    bare = new_member(db, new_account(db), "viewer")
    assert (await client.get("/v1/billing/wallet", headers=bare.headers)).json()["balance"] == 0


async def test_ledger_pages_newest_first_with_filters(
    db: DatabaseURLs, client: httpx.AsyncClient
) -> None:
    member = _funded(db)
    for days in (3, 2, 1):
        _entry(db, member, "usage", -days, service="analytics",
               at=f"now() - interval '{days} days'")  # fmt: skip
    _entry(db, member, "usage", -7, service="social_publish")
    first = (
        await client.get("/v1/billing/transactions", params={"limit": 2}, headers=member.headers)
    ).json()
    assert [t["amount"] for t in first["items"]] == [-7, -1]
    second = (
        await client.get(
            "/v1/billing/transactions",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=member.headers,
        )
    ).json()
    assert [t["amount"] for t in second["items"]] == [-2, -3]
    analytics = (
        await client.get(
            "/v1/billing/transactions",
            params={"service_type": "analytics", "type": "usage"},
            headers=member.headers,
        )
    ).json()
    assert [t["amount"] for t in analytics["items"]] == [-1, -2, -3]
    purchases = (
        await client.get(
            "/v1/billing/transactions", params={"type": "purchase"}, headers=member.headers
        )
    ).json()
    assert [(t["amount"], t["balance_after"]) for t in purchases["items"]] == [(1000, 1000)]
    other = new_member(db, new_account(db), "viewer")
    assert (await client.get("/v1/billing/transactions", headers=other.headers)).json() == {
        "items": [], "next_cursor": None,
    }  # fmt: skip


async def test_ledger_bad_filters(db: DatabaseURLs, client: httpx.AsyncClient) -> None:
    member = _funded(db)
    response = await client.get("/v1/billing/transactions",
                                params={"type": "gift", "cursor": "junk"},
                                headers=member.headers)  # fmt: skip
    assert "query.type" in fields(problem(response, 422))


async def test_monthly_usage_per_service_less_refunds(
    db: DatabaseURLs, client: httpx.AsyncClient
) -> None:
    member = _funded(db)
    today = dt.datetime.now(dt.UTC).date()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    long_ago = "now() - interval '200 days'"
    _entry(db, member, "usage", -50, service="text_generation")
    _entry(db, member, "usage", -20, service="text_generation")
    _entry(db, member, "refund", 20, service="text_generation")  # a refunded charge
    _entry(db, member, "usage", -10, service="image_generation")
    _entry(db, member, "usage", -4, service="image_generation",
           at=f"'{last_month.isoformat()}T12:00:00Z'")  # fmt: skip
    _entry(db, member, "usage", -99, service="image_generation", at=long_ago)
    _entry(db, member, "refund", -100)  # tokens taken back after a payment refund: no service
    response = await client.get("/v1/billing/usage", params={"months": 2}, headers=member.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "months": 2,
        "usage": [
            {"month": this_month.isoformat(), "service_type": "image_generation", "tokens": 10,
             "charges": 1},
            {"month": this_month.isoformat(), "service_type": "text_generation", "tokens": 50,
             "charges": 2},
            {"month": last_month.isoformat(), "service_type": "image_generation", "tokens": 4,
             "charges": 1},
        ],
    }  # fmt: skip
    problem(await client.get("/v1/billing/usage", params={"months": 0}, headers=member.headers),
            422)  # fmt: skip


async def test_billing_routes_need_a_member(db: DatabaseURLs, client: httpx.AsyncClient) -> None:
    for path in ("/v1/billing/wallet", "/v1/billing/transactions", "/v1/billing/usage",
                 "/v1/billing/prices", "/v1/billing/referral"):  # fmt: skip
        problem(await client.get(path), 401)
