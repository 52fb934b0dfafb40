"""Token packages: staff put them on sale, change and deactivate them (never delete them:
payments name them), every call audited; accounts see the active ones."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import fields, problem, sql
from tests.support.identity import new_account, new_member
from tests.support.staff import StaffSession, new_staff_session

STAFF_PACKAGES = "/v1/staff/billing/packages"


async def create(client: httpx.AsyncClient, staff: StaffSession, **body: Any) -> httpx.Response:
    payload = {"name": "Starter", "tokens": 1000, "price_cents": 1900, **body}
    return await client.post(STAFF_PACKAGES, json=payload, headers=staff.headers)


def audit(urls: DatabaseURLs, staff: StaffSession) -> list[tuple[Any, ...]]:
    return sql(
        urls, "SELECT action, target_id FROM admin_audit_logs WHERE admin_user_id = %s"
        " ORDER BY created_at", staff.admin_user_id,
    )  # fmt: skip


class TestStaffManagePackages:
    async def test_create_change_and_take_off_sale(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        staff = new_staff_session(db)
        created = await create(client, staff, name=" Pro ", bonus_tokens=100,
                               stripe_price_id=f"price_{uuid.uuid4().hex[:8]}")  # fmt: skip
        assert created.status_code == 201, created.text
        package = created.json()
        assert (package["name"], package["tokens"], package["bonus_tokens"]) == ("Pro", 1000, 100)
        assert (package["currency"], package["is_active"]) == ("EUR", True)

        owner = new_member(db, new_account(db), "owner")
        on_sale = await client.get("/v1/billing/packages", headers=owner.headers)
        assert package["id"] in {p["id"] for p in on_sale.json()}

        url = f"{STAFF_PACKAGES}/{package['id']}"
        changed = await client.patch(url, json={"price_cents": 2900}, headers=staff.headers)
        assert changed.status_code == 200, changed.text
        assert (changed.json()["price_cents"], changed.json()["name"]) == (2900, "Pro")
        off = await client.patch(url, json={"is_active": False}, headers=staff.headers)
        assert off.json()["is_active"] is False
        on_sale = await client.get("/v1/billing/packages", headers=owner.headers)
        assert package["id"] not in {p["id"] for p in on_sale.json()}

        listed = await client.get(STAFF_PACKAGES, headers=staff.headers)
        assert package["id"] in {p["id"] for p in listed.json()}  # inactive ones too
        assert audit(db, staff) == [
            ("token_package.create", package["id"]), ("token_package.update", package["id"]),
            ("token_package.update", package["id"]), ("token_package.list", None),
        ]  # fmt: skip

    async def test_bad_input_is_422_naming_the_field(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        staff = new_staff_session(db)
        cases = (
            ({"tokens": 0}, "body.tokens"), ({"price_cents": -1}, "body.price_cents"),
            ({"currency": "eur"}, "body.currency"), ({"extra": 1}, "body.extra"),
        )  # fmt: skip
        for body, field in cases:
            assert field in fields(problem(await create(client, staff, **body), 422)), body

    async def test_a_stripe_price_belongs_to_one_package(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        staff = new_staff_session(db)
        price = f"price_{uuid.uuid4().hex[:8]}"
        assert (await create(client, staff, stripe_price_id=price)).status_code == 201
        problem(await create(client, staff, stripe_price_id=price), 409)

    async def test_an_unknown_package_is_404(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        staff = new_staff_session(db)
        response = await client.patch(f"{STAFF_PACKAGES}/{uuid.uuid4()}", json={"tokens": 5},
                                      headers=staff.headers)  # fmt: skip
        problem(response, 404, "package_not_found")

    async def test_users_and_anonymous_callers_are_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        for headers in (owner.headers, {}):
            problem(await client.post(STAFF_PACKAGES, json={}, headers=headers), 401)
            problem(await client.get(STAFF_PACKAGES, headers=headers), 401)
