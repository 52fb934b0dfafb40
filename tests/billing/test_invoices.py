"""Invoices: numbered gap-free per year even under concurrent purchases, VAT from the
configured rate, the account's billing details copied at issue, a PDF for each, listed and
read by the account only, voided by staff with a credit note (never deleted)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import uuid
from decimal import Decimal

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.app import create_app
from markettina.billing.invoice_numbers import next_invoice_number
from markettina.billing.invoices import Buyer, issue_purchase_invoice
from markettina.billing.vat import split_gross
from markettina.kernel.db.tenant import enter_tenant
from markettina.kernel.db.urls import DatabaseURLs
from tests.billing.conftest import stripe_settings
from tests.billing.sales_support import buy, deliver, new_package, start_checkout
from tests.support.api import api_client
from tests.support.checks import fields, problem, sql
from tests.support.fake_stripe import FakeStripe
from tests.support.identity import Member, new_account, new_member
from tests.support.staff import new_staff_session


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def first_invoice(client: httpx.AsyncClient, member: Member) -> dict:
    page = (await client.get("/v1/billing/invoices", headers=member.headers)).json()
    return page["items"][-1]  # type: ignore[no-any-return]


def pdf_text(pdf: bytes) -> str:
    """The text a PDF reader extracts (through the font's Unicode map)."""
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


class TestNumbers:
    async def test_a_rolled_back_issue_gives_its_number_back(self, session: AsyncSession) -> None:
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                taken = await next_invoice_number(session)
                raise RuntimeError("the purchase failed")
        again = await next_invoice_number(session)
        assert again.sequence == taken.sequence
        assert str(again) == f"{again.year}-{again.sequence:06d}"
        assert again.issue_date == dt.datetime.now(dt.UTC).date()

    async def test_concurrent_purchases_get_numbers_one_to_n(
        self, fresh_db: DatabaseURLs, fake_stripe: FakeStripe
    ) -> None:
        purchases = 12
        package = new_package(fresh_db, tokens=10)
        buyers = [new_member(fresh_db, new_account(fresh_db), "owner") for _ in range(purchases)]
        app = create_app(urls=fresh_db, settings=stripe_settings(fake_stripe))
        async with api_client(app) as client:
            payloads = []
            for buyer in buyers:
                started = await start_checkout(client, buyer, package)
                paid = fake_stripe.pay(started.json()["session_id"])
                payloads.append(fake_stripe.event("checkout.session.completed", paid))
            answers = await asyncio.gather(*(deliver(client, p) for p in payloads))
        assert [a.status_code for a in answers] == [200] * purchases
        numbers = sorted(n for (n,) in sql(fresh_db, "SELECT invoice_number FROM invoices"))
        year = dt.datetime.now(dt.UTC).year
        assert numbers == [f"{year}-{n:06d}" for n in range(1, purchases + 1)]


class TestVat:
    def test_the_net_is_rounded_half_up_and_the_vat_is_the_rest(self) -> None:
        assert (split_gross(12200, Decimal("0.22")).net_cents, split_gross(12200,
                Decimal("0.22")).tax_cents) == (10000, 2200)  # fmt: skip
        assert split_gross(999, Decimal("0.22")).net_cents == 819  # 818.85 -> 819
        assert split_gross(61, Decimal("0.22")).net_cents == 50  # 50.0 exactly
        assert split_gross(-999, Decimal("0.22")).net_cents == -819
        for gross in range(0, 2000, 7):
            split = split_gross(gross, Decimal("0.22"))
            assert split.net_cents + split.tax_cents == gross

    async def test_the_configured_rate_is_used_and_kept_on_the_invoice(
        self, session: AsyncSession
    ) -> None:
        [(account_id,)] = (
            await session.execute(
                text("INSERT INTO accounts (name, slug) VALUES ('v', :s) RETURNING id"),
                {"s": f"vat-{uuid.uuid4().hex[:8]}"},
            )
        ).all()
        await enter_tenant(session, account_id)
        invoice = await issue_purchase_invoice(
            session, account_id=account_id, description="Pack", list_price_cents=1100,
            paid_cents=1100, currency="EUR", vat_rate=Decimal("0.10"), discount_label=None,
            paid_at=dt.datetime.now(dt.UTC), payment_intent_id=None, resource_id="x",
            buyer=Buyer("B", None),
        )  # fmt: skip
        assert (invoice.subtotal_cents, invoice.tax_cents, invoice.tax_rate) == (
            1000, 100, Decimal("0.10"),
        )  # fmt: skip


class TestBillingDetails:
    async def test_details_are_kept_and_copied_onto_invoices_at_issue(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        empty = await client.get("/v1/billing/details", headers=owner.headers)
        assert empty.json() == {"name": None, "email": None, "vat_id": None, "address": None}
        details = {"name": "Rossi S.r.l.", "email": "billing@rossi.example",
                   "vat_id": "IT12345678901", "address": "Via Roma 1\n00100 Roma"}  # fmt: skip
        put = await client.put("/v1/billing/details", json=details, headers=owner.headers)
        assert put.status_code == 200, put.text
        assert put.json() == details

        await buy(client, fake_stripe, owner, new_package(db))
        changed = await client.put("/v1/billing/details", json={"name": "Later"},
                                   headers=owner.headers)  # fmt: skip
        assert changed.json() == {"name": "Later", "email": None, "vat_id": None, "address": None}

        invoice = await first_invoice(client, owner)
        assert (invoice["billing_name"], invoice["billing_email"], invoice["billing_vat_id"],
                invoice["billing_address"]) == tuple(details.values())  # fmt: skip

    async def test_bad_details_are_422_naming_the_field(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await client.put(
            "/v1/billing/details", json={"email": "not-an-email"}, headers=owner.headers
        )
        assert fields(problem(response, 422)) == ["body.email"]

    async def test_viewers_read_but_do_not_change_them(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        viewer = new_member(db, owner.account_id, "viewer")
        assert (await client.get("/v1/billing/details", headers=viewer.headers)).status_code == 200
        refused = await client.put("/v1/billing/details", json={}, headers=viewer.headers)
        problem(refused, 403, "permission_denied")


class TestReading:
    async def test_list_detail_and_pdf(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        package = new_package(db, tokens=1000, bonus_tokens=50, price_cents=12200)
        for _ in range(3):
            await buy(client, fake_stripe, owner, package)
        first = await client.get("/v1/billing/invoices?limit=2", headers=owner.headers)
        assert first.status_code == 200, first.text
        rest = await client.get(
            f"/v1/billing/invoices?limit=2&cursor={first.json()['next_cursor']}",
            headers=owner.headers,
        )
        listed = first.json()["items"] + rest.json()["items"]
        assert rest.json()["next_cursor"] is None
        numbers = [i["invoice_number"] for i in listed]
        assert len(set(numbers)) == 3 and numbers == sorted(numbers, reverse=True)

        one = listed[0]
        detail = await client.get(f"/v1/billing/invoices/{one['id']}", headers=owner.headers)
        assert detail.json() == one
        [item] = one["items"]
        assert (item["quantity"], item["unit_price_cents"], item["total_cents"]) == (
            1,
            10000,
            10000,
        )
        assert "1000 tokens + 50 bonus" in item["description"]
        assert one["tax_rate"] == "0.2200" and one["pdf_url"].endswith(f"{one['id']}/pdf")

        pdf = await client.get(one["pdf_url"], headers=owner.headers)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-") and pdf.content.rstrip().endswith(b"%%EOF")
        text = pdf_text(pdf.content)
        for expected in (one["invoice_number"], "122.00 EUR", "22.00 EUR", "Markettina S.r.l.",
                         "IT00000000001", "VAT 22%"):  # fmt: skip
            assert expected in text, expected

    async def test_another_accounts_invoice_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        await buy(client, fake_stripe, owner, new_package(db))
        invoice = await first_invoice(client, owner)
        stranger = new_member(db, new_account(db), "owner")
        for path in (f"/v1/billing/invoices/{invoice['id']}", invoice["pdf_url"]):
            problem(await client.get(path, headers=stranger.headers), 404, "invoice_not_found")
        assert (await client.get("/v1/billing/invoices", headers=stranger.headers)).json() == {
            "items": [], "next_cursor": None,
        }  # fmt: skip


class TestVoid:
    async def test_staff_void_issues_a_credit_note_and_deletes_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        await buy(client, fake_stripe, owner, new_package(db, price_cents=12200))
        invoice = await first_invoice(client, owner)
        staff = new_staff_session(db)
        url = f"/v1/staff/accounts/{owner.account_id}/invoices/{invoice['id']}/void"

        response = await client.post(url, json={"reason": "ordered by mistake"},
                                     headers=staff.headers)  # fmt: skip

        assert response.status_code == 200, response.text
        voided, note = response.json()["invoice"], response.json()["credit_note"]
        assert voided["status"] == "void" and voided["invoice_number"] == invoice["invoice_number"]
        assert (note["kind"], note["status"], note["credits_invoice_id"]) == (
            "credit_note", "issued", invoice["id"],
        )  # fmt: skip
        assert (note["subtotal_cents"], note["tax_cents"], note["total_cents"]) == (
            -10000, -2200, -12200,
        )  # fmt: skip
        assert note["invoice_number"] > invoice["invoice_number"]
        assert "ordered by mistake" in note["items"][0]["description"]
        listed = (await client.get("/v1/billing/invoices", headers=owner.headers)).json()
        assert {i["id"] for i in listed["items"]} == {invoice["id"], note["id"]}
        note_pdf = await client.get(note["pdf_url"], headers=owner.headers)
        assert "Credit note" in pdf_text(note_pdf.content)
        assert sql(
            db, "SELECT count(*) FROM admin_audit_logs WHERE action = 'invoice.void'"
            " AND target_id = %s AND admin_user_id = %s", invoice["id"], staff.admin_user_id,
        ) == [(1,)]  # fmt: skip

        again = await client.post(url, json={"reason": "twice"}, headers=staff.headers)
        problem(again, 409, "invoice_not_voidable")
        note_url = f"/v1/staff/accounts/{owner.account_id}/invoices/{note['id']}/void"
        problem(await client.post(note_url, json={"reason": "x"}, headers=staff.headers), 409,
                "invoice_not_voidable")  # fmt: skip

    async def test_only_staff_may_void_and_only_in_the_invoices_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        await buy(client, fake_stripe, owner, new_package(db))
        invoice = await first_invoice(client, owner)
        url = f"/v1/staff/accounts/{owner.account_id}/invoices/{invoice['id']}/void"
        problem(await client.post(url, json={"reason": "x"}, headers=owner.headers), 401)
        staff = new_staff_session(db)
        elsewhere = f"/v1/staff/accounts/{new_account(db)}/invoices/{invoice['id']}/void"
        problem(await client.post(elsewhere, json={"reason": "x"}, headers=staff.headers), 404,
                "invoice_not_found")  # fmt: skip
        nowhere = f"/v1/staff/accounts/{uuid.uuid4()}/invoices/{invoice['id']}/void"
        problem(await client.post(nowhere, json={"reason": "x"}, headers=staff.headers), 404,
                "account_not_found")  # fmt: skip
        assert (await first_invoice(client, owner))["status"] == "paid"
