"""Starting a checkout: the real stripe SDK opens a Checkout Session at the fake Stripe
for the package (its Stripe price, or the amount to pay), carrying the account, the
package, the buyer and the promo code; a code that does not apply is refused first."""

from __future__ import annotations

import uuid

import httpx
import pytest

from markettina.bindings import bind_payments
from markettina.kernel.db.urls import DatabaseURLs
from tests.billing.conftest import stripe_settings
from tests.billing.sales_support import new_package, new_promo, start_checkout
from tests.support.api import api_client, make_app
from tests.support.checks import fields, problem
from tests.support.fake_stripe import TEST_API_KEY, FakeStripe
from tests.support.identity import Member, new_account, new_key, new_member


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


class TestStartCheckout:
    async def test_a_package_with_a_stripe_price_is_sold_at_that_price(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        price_id = f"price_{uuid.uuid4().hex[:10]}"
        fake_stripe.prices[price_id] = (12200, "eur")
        package = new_package(db, stripe_price_id=price_id)
        before = len(fake_stripe.requests)

        response = await start_checkout(client, owner, package)

        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"url", "session_id"}
        assert body["url"] == fake_stripe.sessions[body["session_id"]]["url"]
        [request] = fake_stripe.requests[before:]
        assert request.headers["authorization"] == f"Bearer {TEST_API_KEY}"
        assert request.headers["idempotency-key"].startswith("checkout:")
        assert request.params["mode"] == "payment"
        assert request.params["line_items"] == [{"price": price_id, "quantity": "1"}]
        assert request.params["client_reference_id"] == str(owner.account_id)
        assert request.params["metadata"] == {
            "account_id": str(owner.account_id), "package_id": str(package),
            "user_id": str(owner.user_id),
        }  # fmt: skip
        assert request.params["payment_intent_data"]["metadata"] == request.params["metadata"]
        assert request.params["success_url"].startswith("http")
        assert request.params["cancel_url"].startswith("http")

    async def test_without_a_stripe_price_the_amount_is_sent(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        package = new_package(db, tokens=500, price_cents=4900)
        response = await start_checkout(client, owner, package)
        assert response.status_code == 200, response.text
        session = fake_stripe.sessions[response.json()["session_id"]]
        assert (session["amount_total"], session["currency"]) == (4900, "eur")
        [item] = fake_stripe.requests[-1].params["line_items"]
        assert item["price_data"]["unit_amount"] == "4900"
        assert "500 tokens" in item["price_data"]["product_data"]["name"]

    async def test_a_promo_code_lowers_the_amount_and_rides_in_the_metadata(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        price_id = f"price_{uuid.uuid4().hex[:10]}"
        fake_stripe.prices[price_id] = (10000, "eur")
        package = new_package(db, price_cents=10000, stripe_price_id=price_id)
        code = new_promo(db, discount_type="percent", value=25)

        response = await start_checkout(client, owner, package, code.lower())

        assert response.status_code == 200, response.text
        session = fake_stripe.sessions[response.json()["session_id"]]
        assert session["amount_total"] == 7500  # inline price: the Stripe price is full price
        assert session["metadata"]["promo_code"] == code

    async def test_a_code_that_does_not_apply_is_refused_with_its_reason(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member
    ) -> None:
        package = new_package(db)
        before = len(fake_stripe.requests)
        response = await start_checkout(client, owner, package, "NO-SUCH-CODE")
        body = problem(response, 422, "promo_code_not_applicable")
        assert body["reason"] == "unknown"
        assert fields(body) == ["body.promo_code"]
        assert len(fake_stripe.requests) == before  # Stripe was never asked

    @pytest.mark.parametrize(("discount_type", "value"), [("percent", 100), ("fixed_amount", 4880)])
    async def test_a_discount_leaving_less_than_a_card_charge_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe, owner: Member,
        discount_type: str, value: int,
    ) -> None:  # fmt: skip
        package = new_package(db, price_cents=4900)
        code = new_promo(db, discount_type=discount_type, value=value)
        before = len(fake_stripe.requests)
        body = problem(await start_checkout(client, owner, package, code), 422,
                       "amount_below_minimum")  # fmt: skip
        assert fields(body) == ["body.promo_code"]
        assert body["minimum_cents"] == 50 and body["amount_cents"] == 4900 - min(
            4900, value if discount_type == "fixed_amount" else 4900
        )
        assert len(fake_stripe.requests) == before  # Stripe was never asked
        just_enough = new_promo(db, discount_type="fixed_amount", value=4850)
        response = await start_checkout(client, owner, package, just_enough)
        assert response.status_code == 200, response.text

    async def test_an_inactive_or_unknown_package_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        for package in (new_package(db, active=False), uuid.uuid4()):
            problem(await start_checkout(client, owner, package), 404, "package_not_found")

    async def test_an_api_key_may_buy_without_a_person(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_stripe: FakeStripe
    ) -> None:
        account = new_account(db)
        key = new_key(db, account, ["billing:manage"])
        response = await client.post(
            "/v1/billing/checkout", json={"package_id": str(new_package(db))}, headers=key.headers
        )
        assert response.status_code == 200, response.text
        metadata = fake_stripe.sessions[response.json()["session_id"]]["metadata"]
        assert metadata == {"account_id": str(account), "package_id": metadata["package_id"]}

    async def test_members_without_billing_manage_are_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        editor = new_member(db, owner.account_id, "editor")
        problem(await start_checkout(client, editor, new_package(db)), 403, "permission_denied")

    async def test_stripe_refusing_is_a_503_not_a_500(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        package = new_package(db, stripe_price_id=f"price_unknown_{uuid.uuid4().hex[:6]}")
        body = problem(await start_checkout(client, owner, package), 503, "payment_provider_error")
        assert "No such price" in body["detail"]


class TestPackagesOnSale:
    async def test_accounts_see_the_active_packages_only(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        active, inactive = new_package(db), new_package(db, active=False)
        response = await client.get("/v1/billing/packages", headers=owner.headers)
        assert response.status_code == 200, response.text
        ids = {p["id"] for p in response.json()}
        assert str(active) in ids and str(inactive) not in ids
        assert set(response.json()[0]) == {
            "id", "name", "tokens", "bonus_tokens", "price_cents", "currency",
        }  # fmt: skip


async def test_without_stripe_configured_checkout_is_503(
    db: DatabaseURLs, fake_stripe: FakeStripe
) -> None:
    owner = new_member(db, new_account(db), "owner")
    try:
        async with api_client(make_app(db)) as plain:
            response = await start_checkout(plain, owner, new_package(db))
        problem(response, 503, "payments_not_configured")
    finally:  # the gateway is bound per process: give the module's app its own back
        bind_payments(stripe_settings(fake_stripe))
