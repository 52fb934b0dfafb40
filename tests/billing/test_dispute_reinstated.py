"""A won dispute (``charge.dispute.funds_reinstated``) gives back the tokens its withdrawal
took — once, however often Stripe says so — and never those already spent; the payment is
paid again, a new invoice bills the disputed amount again (the withdrawal's credit note
stays), and a later refund still takes back the right difference."""

from __future__ import annotations

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
    payment_of,
    spend,
)
from tests.support.checks import sql
from tests.support.fake_stripe import FakeStripe, stripe_id
from tests.support.identity import Member, new_account, new_member

WITHDRAWN = "charge.dispute.funds_withdrawn"
REINSTATED = "charge.dispute.funds_reinstated"


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def withdraw(client: httpx.AsyncClient, fake: FakeStripe, session: dict[str, Any],
                   amount: int) -> None:  # fmt: skip
    payload = fake.event(WITHDRAWN, fake.dispute_of(session, amount=amount))
    assert (await deliver(client, payload)).json()["outcome"] == "processed"


async def win(client: httpx.AsyncClient, fake: FakeStripe, session: dict[str, Any],
              amount: int) -> bytes:  # fmt: skip
    """Deliver the won dispute's reinstatement; its payload, to deliver again."""
    won = fake.dispute_of(session, amount=amount, status="won", reinstated=amount)
    payload = fake.event(REINSTATED, won)
    assert (await deliver(client, payload)).json()["outcome"] == "processed"
    return payload


async def refund(client: httpx.AsyncClient, fake: FakeStripe, session: dict[str, Any],
                 amount_refunded: int) -> None:  # fmt: skip
    charge = fake.charge_of(session, amount_refunded=amount_refunded)
    payload = fake.event("charge.refunded", charge)
    assert (await deliver(client, payload)).json()["outcome"] == "processed"


def restorations(urls: DatabaseURLs, account_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return sql(
        urls,
        "SELECT amount, idempotency_key FROM token_transactions"
        " WHERE account_id = %s AND type = 'adjustment' ORDER BY created_at",
        account_id,
    )


def reinstated_events(urls: DatabaseURLs, account_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = sql(
        urls,
        "SELECT event_data FROM domain_events WHERE account_id = %s"
        " AND event_type = 'payment.dispute_reinstated' ORDER BY created_at",
        account_id,
    )
    return [row for (row,) in rows]


def tokens_of(payment: dict[str, Any]) -> tuple[Any, ...]:
    return (payment["status"], payment["amount_disputed_cents"], payment["tokens_reversed"],
            payment["tokens_shortfall"])  # fmt: skip


class TestTokensComeBack:
    async def test_every_token_comes_back_once_however_often_stripe_says_so(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        package = new_package(db, tokens=1000, bonus_tokens=100, price_cents=10000)
        session = await buy(client, fake_stripe, owner, package)
        await withdraw(client, fake_stripe, session, 10000)
        assert balance(db, owner.account_id) == 0
        assert payment_of(db, session)["status"] == "refunded"

        payload = await win(client, fake_stripe, session, 10000)
        assert balance(db, owner.account_id) == 1100
        payment = payment_of(db, session)
        assert tokens_of(payment) == ("succeeded", 0, 0, 0)
        pi = session["payment_intent"]
        assert restorations(db, owner.account_id) == [(1100, f"stripe:{pi}:dispute_reinstated:0")]
        [event] = reinstated_events(db, owner.account_id)
        assert event["payment_id"] == payment["id"]
        assert (event["amount_cents"], event["amount_reversed_cents"]) == (10000, 0)
        assert (event["tokens_restored"], event["tokens_shortfall_cleared"]) == (1100, 0)
        assert event["invoice_id"] == invoices_of(db, owner.account_id)[-1]["id"]

        state = billing_state(db, owner.account_id)
        again = await deliver(client, payload)  # Stripe's redelivery: the same event id
        assert again.json() == {"received": True, "outcome": "duplicate"}
        # the same dispute reinstated again under another event id
        won = fake_stripe.dispute_of(session, amount=10000, status="won", reinstated=10000)
        assert (await deliver(client, fake_stripe.event(REINSTATED, won))).status_code == 200
        after = billing_state(db, owner.account_id)
        assert {k: v for k, v in after.items() if k != "stripe_events"} == {
            k: v for k, v in state.items() if k != "stripe_events"
        }
        assert balance(db, owner.account_id) == 1100

    async def test_a_withdrawal_delivered_after_its_reinstatement_takes_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        """Stripe does not promise the order of deliveries: the won dispute's reinstatement
        may come first. The withdrawal then changes nothing, and issues no credit note."""
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000,
                                                                    price_cents=10000))  # fmt: skip
        await win(client, fake_stripe, session, 10000)
        await withdraw(client, fake_stripe, session, 10000)
        assert balance(db, owner.account_id) == 1000
        assert tokens_of(payment_of(db, session)) == ("succeeded", 0, 0, 0)
        assert [i["kind"] for i in invoices_of(db, owner.account_id)] == ["invoice"]

    async def test_a_late_withdrawal_of_a_lost_dispute_takes_what_stayed_lost(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        """A dispute lost after a partial refund: Stripe gives the refunded part back. Its
        withdrawal, delivered after that, takes only what the dispute still holds."""
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000,
                                                                    price_cents=10000))  # fmt: skip
        lost = fake_stripe.dispute_of(session, amount=10000, reinstated=3000)
        payload = fake_stripe.event(REINSTATED, lost)
        assert (await deliver(client, payload)).json()["outcome"] == "processed"
        await withdraw(client, fake_stripe, session, 10000)
        assert payment_of(db, session)["amount_disputed_cents"] == 7000
        assert balance(db, owner.account_id) == 300

    async def test_tokens_spent_before_the_withdrawal_are_not_given_back(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000,
                                                                    price_cents=10000))  # fmt: skip
        spend(db, owner.account_id, 600)
        await withdraw(client, fake_stripe, session, 10000)
        assert balance(db, owner.account_id) == 0
        assert tokens_of(payment_of(db, session)) == ("refunded", 10000, 1000, 600)

        await win(client, fake_stripe, session, 10000)
        assert balance(db, owner.account_id) == 400  # what the withdrawal took, not 1000
        assert tokens_of(payment_of(db, session)) == ("succeeded", 0, 0, 0)
        [event] = reinstated_events(db, owner.account_id)
        assert (event["tokens_restored"], event["tokens_shortfall_cleared"]) == (400, 600)

    async def test_a_dispute_of_part_of_the_payment_gives_back_its_share(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000,
                                                                    price_cents=10000))  # fmt: skip
        await withdraw(client, fake_stripe, session, 4000)
        assert balance(db, owner.account_id) == 600
        await win(client, fake_stripe, session, 4000)
        assert balance(db, owner.account_id) == 1000
        assert tokens_of(payment_of(db, session)) == ("succeeded", 0, 0, 0)

        # a full refund now spans both invoices: the purchase's 6000 left, the re-bill's 4000
        await refund(client, fake_stripe, session, 10000)
        assert balance(db, owner.account_id) == 0
        invoice, _, rebill, *notes = invoices_of(db, owner.account_id)
        assert [(n["credits_invoice_id"], n["total_cents"]) for n in notes] == [
            (invoice["id"], -6000), (rebill["id"], -4000),
        ]  # fmt: skip
        [(refunded,)] = sql(
            db, "SELECT event_data FROM domain_events WHERE account_id = %s"
            " AND event_type = 'payment.refunded' AND event_data->>'reason' = 'refund'",
            owner.account_id,
        )  # fmt: skip
        assert refunded["credit_note_ids"] == [n["id"] for n in notes]
        assert refunded["credit_note_id"] == notes[0]["id"]


class TestLaterRefunds:
    async def test_a_refund_after_a_won_dispute_takes_back_the_right_difference(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000,
                                                                    price_cents=10000))  # fmt: skip
        await withdraw(client, fake_stripe, session, 10000)
        await win(client, fake_stripe, session, 10000)
        assert balance(db, owner.account_id) == 1000

        await refund(client, fake_stripe, session, 2500)
        assert balance(db, owner.account_id) == 750
        assert tokens_of(payment_of(db, session)) == ("succeeded", 0, 250, 0)
        # the whole payment: the dispute once reached this total, a refund still reverses it
        await refund(client, fake_stripe, session, 10000)
        assert balance(db, owner.account_id) == 0
        assert tokens_of(payment_of(db, session)) == ("refunded", 0, 1000, 0)

        invoice, dispute_note, rebill, *refund_notes = invoices_of(db, owner.account_id)
        assert (invoice["status"], dispute_note["total_cents"]) == ("refunded", -10000)
        assert (rebill["kind"], rebill["status"], rebill["total_cents"]) == (
            "invoice", "refunded", 10000,
        )  # fmt: skip
        assert [(n["credits_invoice_id"], n["total_cents"]) for n in refund_notes] == [
            (rebill["id"], -2500), (rebill["id"], -7500),
        ]  # fmt: skip

    async def test_refunds_before_and_after_a_won_dispute_of_the_rest(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000,
                                                                    price_cents=10000))  # fmt: skip
        await refund(client, fake_stripe, session, 2500)
        spend(db, owner.account_id, 700)
        assert balance(db, owner.account_id) == 50
        await withdraw(client, fake_stripe, session, 7500)  # takes 50 of its 750
        assert tokens_of(payment_of(db, session)) == ("refunded", 7500, 1000, 700)

        await win(client, fake_stripe, session, 7500)
        assert balance(db, owner.account_id) == 50
        assert tokens_of(payment_of(db, session)) == ("succeeded", 0, 250, 0)

        await refund(client, fake_stripe, session, 5000)  # 250 more due, 50 left to take
        assert balance(db, owner.account_id) == 0
        assert tokens_of(payment_of(db, session)) == ("succeeded", 0, 500, 200)
        invoice, *_, rebill, last_note = invoices_of(db, owner.account_id)
        assert rebill["total_cents"] == 7500
        # the purchase invoice is credited in full already: the refund credits the re-bill
        assert (last_note["credits_invoice_id"], last_note["total_cents"]) == (rebill["id"], -2500)
        assert invoice["status"] == "refunded"


class TestInvoices:
    async def test_the_credit_note_stays_and_a_new_invoice_bills_the_amount_again(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, price_cents=12200))
        await withdraw(client, fake_stripe, session, 12200)
        before = invoices_of(db, owner.account_id)

        await win(client, fake_stripe, session, 12200)
        *kept, rebill = invoices_of(db, owner.account_id)
        assert kept == before  # never changed
        invoice, note = kept
        assert (note["kind"], note["total_cents"], invoice["status"]) == (
            "credit_note", -12200, "refunded",
        )  # fmt: skip
        assert (rebill["kind"], rebill["status"], rebill["credits_invoice_id"]) == (
            "invoice", "paid", None,
        )  # fmt: skip
        assert (rebill["subtotal_cents"], rebill["tax_cents"], rebill["total_cents"]) == (
            10000, 2200, 12200,
        )  # fmt: skip
        assert rebill["tax_rate"] == invoice["tax_rate"]
        assert rebill["payment_intent_id"] == session["payment_intent"]
        assert rebill["paid_at"] is not None
        assert (rebill["billing_name"], rebill["billing_email"]) == (
            invoice["billing_name"], invoice["billing_email"],
        )  # fmt: skip
        [(description,)] = sql(
            db, "SELECT description FROM invoice_items WHERE invoice_id = %s",
            uuid.UUID(rebill["id"]),
        )  # fmt: skip
        assert invoice["invoice_number"] in description
        assert "dispute was won" in description
        # gap-free: the next number of the year's counter, right after the credit note's
        year, sequence = rebill["invoice_number"].split("-")
        assert sql(db, "SELECT last_number FROM invoice_counters WHERE year = %s", int(year)) == [
            (int(sequence),)
        ]
        assert note["invoice_number"] == f"{year}-{int(sequence) - 1:06d}"

    async def test_a_purchase_without_an_invoice_gets_its_tokens_back_without_one(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        pi = stripe_id("pi")
        [(wallet_id,)] = sql(
            db, "INSERT INTO token_wallets (account_id) VALUES (%s) RETURNING id", owner.account_id
        )
        [(payment_id,)] = sql(
            db,
            "INSERT INTO payments (account_id, stripe_payment_intent_id, amount_cents, status,"
            " tokens_purchased) VALUES (%s, %s, 5000, 'succeeded', 500) RETURNING id",
            owner.account_id, pi,
        )  # fmt: skip
        sql(
            db,
            "INSERT INTO token_transactions (account_id, wallet_id, type, amount,"
            " reference_type, reference_id) VALUES (%s, %s, 'purchase', 500, 'payment', %s)",
            owner.account_id, wallet_id, str(payment_id),
        )  # fmt: skip
        older = {"payment_intent": pi, "amount_total": 5000, "currency": "eur", "metadata": {}}

        await withdraw(client, fake_stripe, older, 5000)
        assert balance(db, owner.account_id) == 0
        await win(client, fake_stripe, older, 5000)
        assert balance(db, owner.account_id) == 500
        assert invoices_of(db, owner.account_id) == []
        [event] = reinstated_events(db, owner.account_id)
        assert (event["tokens_restored"], event["invoice_id"]) == (500, None)


class TestWhatStripeSends:
    async def test_a_lost_dispute_giving_back_what_was_refunded_restores_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        # disputed in full after a partial refund: Stripe withdraws it all, and when the
        # dispute is lost gives back only the part it had refunded already
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=1000,
                                                                    price_cents=10000))  # fmt: skip
        await refund(client, fake_stripe, session, 2500)
        await withdraw(client, fake_stripe, session, 10000)
        assert balance(db, owner.account_id) == 0
        invoices = invoices_of(db, owner.account_id)

        lost = fake_stripe.dispute_of(session, amount=10000, status="lost", reinstated=2500)
        answer = await deliver(client, fake_stripe.event(REINSTATED, lost))
        assert answer.json()["outcome"] == "processed"
        assert balance(db, owner.account_id) == 0  # 2500 refunded + 7500 lost: all gone back
        assert tokens_of(payment_of(db, session)) == ("refunded", 7500, 1000, 0)
        assert invoices_of(db, owner.account_id) == invoices
        [event] = reinstated_events(db, owner.account_id)
        assert (event["amount_cents"], event["tokens_restored"], event["invoice_id"]) == (
            2500, 0, None,
        )  # fmt: skip

    async def test_a_reinstatement_with_nothing_withdrawn_changes_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        session = await buy(client, fake_stripe, owner, new_package(db, tokens=300))
        state = billing_state(db, owner.account_id)
        await win(client, fake_stripe, session, session["amount_total"])
        after = billing_state(db, owner.account_id)
        assert {k: v for k, v in after.items() if k != "stripe_events"} == {
            k: v for k, v in state.items() if k != "stripe_events"
        }

    async def test_an_unknown_payment_intent_is_acknowledged_and_ignored(
        self, client: httpx.AsyncClient, fake_stripe: FakeStripe
    ) -> None:
        dispute = {"id": stripe_id("du"), "object": "dispute", "amount": 500, "currency": "eur",
                   "status": "won", "payment_intent": stripe_id("pi"),
                   "balance_transactions": []}  # fmt: skip
        answer = await deliver(client, fake_stripe.event(REINSTATED, dispute))
        assert answer.status_code == 200
        assert answer.json() == {"received": True, "outcome": "ignored"}
