"""Packages, checkouts, signed webhook deliveries and whole-state snapshots for the tests
of checkout, webhooks and invoices."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import sql
from tests.support.fake_stripe import TEST_WEBHOOK_SECRET, FakeStripe, signature_header
from tests.support.identity import Member

WEBHOOK = "/v1/billing/stripe/webhook"


def new_package(urls: DatabaseURLs, *, tokens: int = 1000, bonus_tokens: int = 0,
                price_cents: int = 12200, stripe_price_id: str | None = None,
                active: bool = True) -> uuid.UUID:  # fmt: skip
    [(package_id,)] = sql(
        urls,
        "INSERT INTO token_packages (name, tokens, bonus_tokens, price_cents, stripe_price_id,"
        " is_active) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        f"Pack {uuid.uuid4().hex[:6]}", tokens, bonus_tokens, price_cents, stripe_price_id,
        active,
    )  # fmt: skip
    return package_id  # type: ignore[no-any-return]


def new_promo(urls: DatabaseURLs, *, code: str | None = None, discount_type: str = "percent",
              value: int = 10, max_uses: int | None = None) -> str:  # fmt: skip
    code = code or f"PROMO{uuid.uuid4().hex[:8].upper()}"
    sql(
        urls,
        "INSERT INTO promo_codes (code, discount_type, discount_value, max_uses)"
        " VALUES (%s, %s, %s, %s)",
        code, discount_type, value, max_uses,
    )  # fmt: skip
    return code


async def start_checkout(client: httpx.AsyncClient, member: Member, package_id: uuid.UUID,
                         promo_code: str | None = None) -> httpx.Response:  # fmt: skip
    body: dict[str, Any] = {"package_id": str(package_id)}
    if promo_code is not None:
        body["promo_code"] = promo_code
    return await client.post("/v1/billing/checkout", json=body, headers=member.headers)


async def deliver(client: httpx.AsyncClient, payload: bytes, *,
                  secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None,
                  signature: str | None = None) -> httpx.Response:  # fmt: skip
    header = signature or signature_header(payload, secret, timestamp=timestamp)
    return await client.post(
        WEBHOOK, content=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )  # fmt: skip


async def buy(client: httpx.AsyncClient, fake: FakeStripe, member: Member,
              package_id: uuid.UUID, promo_code: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Checkout, pay at the fake Stripe, deliver ``checkout.session.completed``: the session."""
    started = await start_checkout(client, member, package_id, promo_code)
    assert started.status_code == 200, started.text
    session = fake.pay(started.json()["session_id"])
    delivered = await deliver(client, fake.event("checkout.session.completed", session))
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["outcome"] == "processed", delivered.text
    return session


def balance(urls: DatabaseURLs, account_id: uuid.UUID) -> int:
    rows = sql(urls, "SELECT balance FROM token_wallets WHERE account_id = %s", account_id)
    return int(rows[0][0]) if rows else 0


def payment_of(urls: DatabaseURLs, session: dict[str, Any]) -> dict[str, Any]:
    [(row,)] = sql(
        urls, "SELECT to_jsonb(p) FROM payments p WHERE stripe_checkout_session_id = %s",
        session["id"],
    )  # fmt: skip
    return row  # type: ignore[no-any-return]


def invoices_of(urls: DatabaseURLs, account_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = sql(
        urls,
        "SELECT to_jsonb(i) FROM invoices i WHERE account_id = %s ORDER BY invoice_number",
        account_id,
    )
    return [row for (row,) in rows]


def spend(urls: DatabaseURLs, account_id: uuid.UUID, tokens: int) -> None:
    sql(
        urls,
        "INSERT INTO token_transactions (account_id, wallet_id, type, amount, service_type)"
        " SELECT account_id, id, 'usage', %s, 'text_generation' FROM token_wallets"
        " WHERE account_id = %s",
        -tokens, account_id,
    )  # fmt: skip


STATE_TABLES = (
    "payments", "token_transactions", "token_wallets", "invoices", "invoice_items",
    "promo_redemptions", "domain_events",
)  # fmt: skip


def billing_state(urls: DatabaseURLs, *account_ids: uuid.UUID) -> dict[str, Any]:
    """Every billing row of these accounts (and the global counters), for before/after."""
    state: dict[str, Any] = {}
    for table in STATE_TABLES:
        state[table] = sql(
            urls,
            f"SELECT to_jsonb(t) FROM {table} t WHERE account_id = ANY(%s)"
            " ORDER BY to_jsonb(t)::text",
            list(account_ids),
        )
    state["referral_program"] = sql(
        urls,
        "SELECT to_jsonb(r) FROM referral_program r WHERE referred_account_id = ANY(%s)"
        " OR referrer_account_id = ANY(%s) ORDER BY id",
        list(account_ids), list(account_ids),
    )  # fmt: skip
    state["invoice_counters"] = sql(urls, "SELECT year, last_number FROM invoice_counters")
    state["promo_codes"] = sql(urls, "SELECT code, current_uses FROM promo_codes ORDER BY code")
    state["stripe_events"] = sql(urls, "SELECT id, processed_at FROM stripe_events ORDER BY id")
    return state
