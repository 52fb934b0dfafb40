"""Stripe webhooks: signed with the test secret exactly as Stripe signs them, stored first,
processed once. A paid checkout makes the payment, the ledger entries, the invoice, the
promo redemption and the referral completion; refunds and disputes take tokens back in
proportion, never below zero; any replay, any number of times, changes nothing."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.billing.sales_support import (
    balance,
    billing_state,
    buy,
    deliver,
    invoices_of,
    new_package,
    new_promo,
    payment_of,
    spend,
    start_checkout,
)
from tests.support.checks import problem, sql
from tests.support.fake_stripe import FakeStripe, signature_header, stripe_id
from tests.support.identity import Member, new_account, new_member


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


def ledger(urls: DatabaseURLs, account_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return sql(
        urls,
        "SELECT type, amount, reference_type, idempotency_key FROM token_transactions"
        " WHERE account_id = %s ORDER BY created_at, amount",
        account_id,
    )


class TestCheckoutCompleted:
    async def test_a_paid_checkout_creates_everything_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        package = new_package(db, tokens=1000, bonus_tokens=100, price_cents=12200)
        session = await buy(client, fake_stripe, owner, package)

        payment = payment_of(db, session)
        assert payment["account_id"] == str(owner.account_id)
        assert payment["user_id"] == owner.user_id
        assert payment["stripe_payment_intent_id"] == session["payment_intent"]
        assert (payment["amount_cents"], payment["currency"], payment["status"]) == (
            12200, "EUR", "succeeded",
        )  # fmt: skip
        assert (payment["tokens_purchased"], payment["bonus_tokens"]) == (1000, 100)
        assert ledger(db, owner.account_id) == [
            ("bonus", 100, "payment", f"stripe:{session['id']}:package_bonus"),
            ("purchase", 1000, "payment", f"stripe:{session['id']}:purchase"),
        ]
        assert balance(db, owner.account_id) == 1100

        [invoice] = invoices_of(db, owner.account_id)
        assert (invoice["kind"], invoice["status"]) == ("invoice", "paid")
        assert (invoice["subtotal_cents"], invoice["tax_cents"], invoice["total_cents"]) == (
            10000, 2200, 12200,
        )  # fmt: skip
        assert invoice["payment_intent_id"] == session["payment_intent"]
        assert invoice["billing_name"] == "Buyer Name"  # no details kept: Stripe's
        [(events,)] = sql(
            db,
            "SELECT array_agg(event_type ORDER BY event_type) FROM domain_events"
            " WHERE account_id = %s AND event_type IN ('payment.completed', 'invoice.issued',"
            " 'tokens.purchased', 'tokens.granted')",
            owner.account_id,
        )
        assert events == ["invoice.issued", "payment.completed", "tokens.granted",
                          "tokens.purchased"]  # fmt: skip
        [(processed,)] = sql(
            db, "SELECT processed_at IS NOT NULL FROM stripe_events WHERE payload->'data'->"
            "'object'->>'id' = %s", session["id"],
        )  # fmt: skip
        assert processed

    async def test_an_unpaid_checkout_waits_for_its_async_payment(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        started = await start_checkout(client, owner, new_package(db, tokens=300))
        unpaid = fake_stripe.pay(started.json()["session_id"], payment_status="unpaid")
        answer = await deliver(client, fake_stripe.event("checkout.session.completed", unpaid))
        assert answer.json() == {"received": True, "outcome": "ignored"}
        assert balance(db, owner.account_id) == 0

        paid = fake_stripe.pay(unpaid["id"])
        answer = await deliver(
            client, fake_stripe.event("checkout.session.async_payment_succeeded", paid)
        )
        assert answer.json()["outcome"] == "processed"
        assert balance(db, owner.account_id) == 300

    async def test_a_percent_promo_is_redeemed_and_shown_as_a_discount_line(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        code = new_promo(db, discount_type="percent", value=50)
        session = await buy(client, fake_stripe, owner, new_package(db, price_cents=12200), code)

        payment = payment_of(db, session)
        assert (payment["amount_cents"], payment["promo_code"]) == (6100, code)
        [(discount, transaction_ok)] = sql(
            db,
            "SELECT r.discount_amount, r.transaction_id = t.id FROM promo_redemptions r"
            " JOIN token_transactions t ON t.account_id = r.account_id AND t.type = 'purchase'"
            " WHERE r.account_id = %s",
            owner.account_id,
        )
        assert (discount, transaction_ok) == (6100, True)
        [invoice] = invoices_of(db, owner.account_id)
        assert (invoice["subtotal_cents"], invoice["tax_cents"], invoice["total_cents"]) == (
            5000, 1100, 6100,
        )  # fmt: skip
        items = sql(
            db, "SELECT description, total_cents FROM invoice_items WHERE invoice_id = %s"
            " ORDER BY total_cents DESC", uuid.UUID(invoice["id"]),
        )  # fmt: skip
        assert [total for _, total in items] == [10000, -5000]
        assert items[1][0] == f"Promo code {code}"

    async def test_a_bonus_tokens_promo_adds_a_bonus_entry(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        code = new_promo(db, discount_type="bonus_tokens", value=250)
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000), code)
        assert balance(db, owner.account_id) == 1250
        assert payment_of(db, session)["bonus_tokens"] == 250
        assert ("bonus", 250, "payment", f"stripe:{session['id']}:promo_bonus") in ledger(
            db, owner.account_id
        )

    async def test_a_code_used_up_before_payment_is_not_counted_but_the_sale_stands(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe
    ) -> None:
        code = new_promo(db, discount_type="bonus_tokens", value=50, max_uses=1)
        first, second = (new_member(db, new_account(db), "owner") for _ in range(2))
        package = new_package(db, tokens=100)
        started = [await start_checkout(client, m, package, code) for m in (first, second)]
        for response in started:
            paid = fake_stripe.pay(response.json()["session_id"])
            answer = await deliver(client, fake_stripe.event("checkout.session.completed", paid))
            assert answer.json()["outcome"] == "processed"
        assert (balance(db, first.account_id), balance(db, second.account_id)) == (150, 100)
        assert sql(db, "SELECT current_uses FROM promo_codes WHERE code = %s", code) == [(1,)]

    async def test_a_first_purchase_completes_the_pending_referral_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        referrer = new_account(db)
        sql(
            db,
            "INSERT INTO referral_program (referrer_account_id, referral_code,"
            " referred_account_id) VALUES (%s, %s, %s)",
            referrer, f"R{uuid.uuid4().hex[:8]}", owner.account_id,
        )  # fmt: skip
        package = new_package(db, tokens=200)
        await buy(client, fake_stripe, owner, package)
        assert sql(
            db, "SELECT status FROM referral_program WHERE referred_account_id = %s",
            owner.account_id,
        ) == [("completed",)]  # fmt: skip
        assert (balance(db, owner.account_id), balance(db, referrer)) == (250, 100)

        await buy(client, fake_stripe, owner, package)  # a second purchase: no more bonus
        assert (balance(db, owner.account_id), balance(db, referrer)) == (450, 100)


class TestRefundsAndDisputes:
    async def test_a_full_refund_takes_the_tokens_back_and_credits_the_invoice(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000,
                                                                    bonus_tokens=100))  # fmt: skip
        refund = fake_stripe.charge_of(session, amount_refunded=session["amount_total"])
        answer = await deliver(client, fake_stripe.event("charge.refunded", refund))
        assert answer.json()["outcome"] == "processed"

        assert balance(db, owner.account_id) == 0
        payment = payment_of(db, session)
        assert (payment["status"], payment["tokens_reversed"], payment["tokens_shortfall"]) == (
            "refunded", 1100, 0,
        )  # fmt: skip
        invoice, note = invoices_of(db, owner.account_id)
        assert invoice["status"] == "refunded"
        assert (note["kind"], note["credits_invoice_id"], note["total_cents"]) == (
            "credit_note", invoice["id"], -invoice["total_cents"],
        )  # fmt: skip
        assert note["invoice_number"] != invoice["invoice_number"]

    async def test_tokens_already_spent_are_the_shortfall(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000))
        spend(db, owner.account_id, 900)
        refund = fake_stripe.charge_of(session, amount_refunded=session["amount_total"])
        await deliver(client, fake_stripe.event("charge.refunded", refund))

        assert balance(db, owner.account_id) == 0  # never below zero
        payment = payment_of(db, session)
        assert (payment["tokens_reversed"], payment["tokens_shortfall"]) == (1000, 900)
        [(shortfall,)] = sql(
            db, "SELECT event_data->>'tokens_shortfall' FROM domain_events"
            " WHERE account_id = %s AND event_type = 'payment.refunded'", owner.account_id,
        )  # fmt: skip
        assert shortfall == "900"

    async def test_partial_refunds_add_up_in_proportion(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000,
                                                                    price_cents=10000))  # fmt: skip
        for refunded, left in ((2500, 750), (2500, 750), (6000, 400), (10000, 0)):
            refund = fake_stripe.charge_of(session, amount_refunded=refunded)
            await deliver(client, fake_stripe.event("charge.refunded", refund))
            assert balance(db, owner.account_id) == left, refunded
        invoice, *notes = invoices_of(db, owner.account_id)
        assert invoice["status"] == "refunded"
        assert sorted(n["total_cents"] for n in notes) == [-4000, -3500, -2500]

    async def test_a_dispute_withdrawal_reverses_like_a_refund(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=800))
        dispute = fake_stripe.dispute_of(session, amount=session["amount_total"])
        opened = await deliver(client, fake_stripe.event("charge.dispute.created", dispute))
        assert opened.json()["outcome"] == "ignored"  # money leaves only when withdrawn
        assert balance(db, owner.account_id) == 800
        withdrawn = await deliver(
            client, fake_stripe.event("charge.dispute.funds_withdrawn", dispute)
        )
        assert withdrawn.json()["outcome"] == "processed"
        assert balance(db, owner.account_id) == 0
        assert payment_of(db, session)["amount_disputed_cents"] == session["amount_total"]

    async def test_a_refund_of_a_payment_we_do_not_know_is_acknowledged(
        self, client: httpx.AsyncClient, fake_stripe: FakeStripe
    ) -> None:
        charge = {"id": stripe_id("ch"), "object": "charge", "amount": 500,
                  "amount_refunded": 500, "payment_intent": stripe_id("pi")}  # fmt: skip
        answer = await deliver(client, fake_stripe.event("charge.refunded", charge))
        assert answer.json()["outcome"] == "ignored"


class TestReplays:
    async def test_every_event_replayed_three_times_changes_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        referrer = new_account(db)
        sql(
            db,
            "INSERT INTO referral_program (referrer_account_id, referral_code,"
            " referred_account_id) VALUES (%s, %s, %s)",
            referrer, f"R{uuid.uuid4().hex[:8]}", owner.account_id,
        )  # fmt: skip
        code = new_promo(db, discount_type="bonus_tokens", value=10)
        started = await start_checkout(client, owner, new_package(db, tokens=500), code)
        session = fake_stripe.pay(started.json()["session_id"])
        events = [
            fake_stripe.event("checkout.session.completed", session),
            fake_stripe.event("charge.refunded",
                              fake_stripe.charge_of(session, amount_refunded=1000)),
            fake_stripe.event("charge.dispute.funds_withdrawn",
                              fake_stripe.dispute_of(session, amount=2000)),
            fake_stripe.event("customer.created", {"id": stripe_id("cus"), "object": "customer"}),
        ]  # fmt: skip
        for payload in events:
            first = await deliver(client, payload)
            assert first.json()["outcome"] in ("processed", "ignored"), first.text
            state = billing_state(db, owner.account_id, referrer)
            for _ in range(3):
                again = await deliver(client, payload)
                assert again.json() == {"received": True, "outcome": "duplicate"}
                assert billing_state(db, owner.account_id, referrer) == state
        # a completion under another event id (Stripe's retries keep the id; this does not)
        replay = fake_stripe.event("checkout.session.completed", session)
        state = billing_state(db, owner.account_id, referrer)
        assert (await deliver(client, replay)).json()["outcome"] == "ignored"
        assert {k: v for k, v in billing_state(db, owner.account_id, referrer).items()
                if k != "stripe_events"} == {k: v for k, v in state.items()
                                             if k != "stripe_events"}  # fmt: skip

    async def test_concurrent_deliveries_of_one_event_process_it_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        started = await start_checkout(client, owner, new_package(db, tokens=700))
        payload = fake_stripe.event(
            "checkout.session.completed", fake_stripe.pay(started.json()["session_id"])
        )
        answers = await asyncio.gather(*(deliver(client, payload) for _ in range(5)))
        outcomes = sorted(a.json()["outcome"] for a in answers)
        assert outcomes == ["duplicate"] * 4 + ["processed"]
        assert balance(db, owner.account_id) == 700


class TestSignatures:
    async def test_a_bad_signature_is_400_and_nothing_is_stored(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        started = await start_checkout(client, owner, new_package(db))
        session = fake_stripe.pay(started.json()["session_id"])
        payload = fake_stripe.event("checkout.session.completed", session)
        event_id = json.loads(payload)["id"]
        attempts = {
            "wrong secret": await deliver(client, payload, secret="whsec_someone_else"),
            "tampered": await deliver(
                client, payload.replace(b'"paid"', b'"PAID"'), signature=signature_header(payload)
            ),
            "too old": await deliver(client, payload, timestamp=int(time.time()) - 301),
            "garbage": await deliver(client, payload, signature="t=1,v1=nothex"),
        }
        for response in attempts.values():
            problem(response, 400, "invalid_signature")
        missing = await client.post("/v1/billing/stripe/webhook", content=payload)
        problem(missing, 400, "invalid_signature")
        assert sql(db, "SELECT count(*) FROM stripe_events WHERE id = %s", event_id) == [(0,)]
        assert balance(db, owner.account_id) == 0

    async def test_an_unknown_type_is_stored_and_acknowledged(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe
    ) -> None:
        payload = fake_stripe.event(
            "invoice.finalized", {"id": stripe_id("in"), "object": "invoice"}
        )
        answer = await deliver(client, payload)
        assert answer.json() == {"received": True, "outcome": "ignored"}
        event_id = json.loads(payload)["id"]
        [(kind, processed)] = sql(
            db, "SELECT type, processed_at IS NOT NULL FROM stripe_events WHERE id = %s", event_id
        )
        assert (kind, processed) == ("invoice.finalized", True)


async def test_a_failed_processing_keeps_the_event_until_stripe_retries(
    client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
) -> None:
    started = await start_checkout(client, owner, new_package(db, tokens=400))
    payload = fake_stripe.event(
        "checkout.session.completed", fake_stripe.pay(started.json()["session_id"])
    )
    event_id = json.loads(payload)["id"]
    # invoices cannot be numbered for a moment: the purchase fails as a whole
    sql(db, "ALTER TABLE invoice_counters ADD CONSTRAINT ck_test_closed CHECK (year < 0) NOT VALID")
    try:
        failed = await deliver(client, payload)
    finally:
        sql(db, "ALTER TABLE invoice_counters DROP CONSTRAINT ck_test_closed")
    assert failed.status_code >= 400
    assert sql(db, "SELECT processed_at FROM stripe_events WHERE id = %s", event_id) == [(None,)]
    assert balance(db, owner.account_id) == 0  # nothing half-done

    retried = await deliver(client, payload)
    assert retried.json()["outcome"] == "processed"
    assert balance(db, owner.account_id) == 400
