"""Service prices: effective-dated, history kept, no overlapping periods; the current list
for accounts and the management routes for staff."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.billing.models import ServicePricing
from markettina.billing.pricing import price_list, price_on, set_price
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import Conflict, ValidationFailed
from tests.support.checks import fields, problem, sql
from tests.support.identity import new_account, new_member
from tests.support.staff import new_staff_session

TODAY = dt.datetime.now(dt.UTC).date()
DAY = dt.timedelta(days=1)


def _service() -> str:
    return f"svc_{uuid.uuid4().hex[:8]}"


async def _set(session: AsyncSession, service: str, cost: int, start: dt.date) -> ServicePricing:
    return await set_price(
        session, service_type=service, service_subtype="basic", token_cost=cost,
        name=f"{service} at {cost}", description=None, effective_from=start, today=TODAY,
    )  # fmt: skip


class TestSetPrice:
    async def test_a_new_price_closes_the_previous_one_the_day_before(
        self, session: AsyncSession
    ) -> None:
        service = _service()
        first = await _set(session, service, 10, TODAY)
        second = await _set(session, service, 12, TODAY + 5 * DAY)
        await session.refresh(first)
        assert (first.effective_from, first.effective_to) == (TODAY, TODAY + 4 * DAY)
        assert (second.effective_from, second.effective_to) == (TODAY + 5 * DAY, None)
        for day, cost in ((TODAY, 10), (TODAY + 4 * DAY, 10), (TODAY + 5 * DAY, 12)):
            price = await price_on(session, service_type=service, service_subtype="basic", on=day)
            assert price is not None and price.token_cost == cost
        assert (
            await price_on(session, service_type=service, service_subtype="basic", on=TODAY - DAY)
            is None
        )

    async def test_a_price_on_or_before_a_scheduled_one_is_a_conflict(
        self, session: AsyncSession
    ) -> None:
        service = _service()
        await _set(session, service, 10, TODAY)
        await _set(session, service, 12, TODAY + 5 * DAY)
        for start in (TODAY + 5 * DAY, TODAY + 2 * DAY):
            with pytest.raises(Conflict) as refused:
                await _set(session, service, 11, start)
            assert refused.value.code == "price_period_overlap"
        rows = (
            await session.execute(
                select(ServicePricing.token_cost).where(ServicePricing.service_type == service)
            )
        ).scalars()
        assert sorted(rows) == [10, 12]

    async def test_history_cannot_be_rewritten(self, session: AsyncSession) -> None:
        with pytest.raises(ValidationFailed):
            await _set(session, _service(), 10, TODAY - DAY)

    async def test_a_subtype_and_no_subtype_are_different_services(
        self, session: AsyncSession
    ) -> None:
        service = _service()
        await _set(session, service, 10, TODAY)
        await set_price(
            session, service_type=service, service_subtype=None, token_cost=3, name="plain",
            description=None, effective_from=TODAY, today=TODAY,
        )  # fmt: skip
        plain = await price_on(session, service_type=service, service_subtype=None, on=TODAY)
        assert plain is not None and plain.token_cost == 3

    async def test_the_list_shows_only_prices_in_effect(self, session: AsyncSession) -> None:
        service = _service()
        await _set(session, service, 10, TODAY)
        await _set(session, service, 12, TODAY + DAY)
        today = [
            p.token_cost for p in await price_list(session, on=TODAY) if p.service_type == service
        ]
        tomorrow = [
            p.token_cost for p in await price_list(session, on=TODAY + DAY)
            if p.service_type == service
        ]  # fmt: skip
        assert (today, tomorrow) == ([10], [12])


class TestPriceRoutes:
    async def test_any_member_reads_the_seeded_list(
        self, db: DatabaseURLs, client: httpx.AsyncClient
    ) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        response = await client.get("/v1/billing/prices", headers=viewer.headers)
        assert response.status_code == 200, response.text
        prices = {(p["service_type"], p["service_subtype"]): p["token_cost"]
                  for p in response.json()}  # fmt: skip
        assert prices[("text_generation", "blog_post")] == 50
        assert prices[("lead_research", "google_places")] == 3
        assert len(prices) >= 11

    async def test_staff_schedule_a_price_and_read_the_history(
        self, db: DatabaseURLs, client: httpx.AsyncClient
    ) -> None:
        staff = new_staff_session(db)
        service = _service()
        body = {"service_type": service, "service_subtype": "basic", "token_cost": 7,
                "name": "Basic"}  # fmt: skip
        created = await client.post("/v1/staff/billing/service-prices", json=body,
                                    headers=staff.headers)  # fmt: skip
        assert created.status_code == 201, created.text
        assert created.json()["effective_from"] == TODAY.isoformat()
        later = (TODAY + 3 * DAY).isoformat()
        await client.post(
            "/v1/staff/billing/service-prices",
            json=body | {"token_cost": 9, "effective_from": later}, headers=staff.headers,
        )  # fmt: skip
        overlap = await client.post(
            "/v1/staff/billing/service-prices",
            json=body | {"token_cost": 8, "effective_from": later}, headers=staff.headers,
        )  # fmt: skip
        problem(overlap, 409, "price_period_overlap")
        history = await client.get(
            "/v1/staff/billing/service-prices", params={"service_type": service, "limit": 1},
            headers=staff.headers,
        )  # fmt: skip
        page = history.json()
        assert [p["token_cost"] for p in page["items"]] == [9]
        rest = await client.get(
            "/v1/staff/billing/service-prices",
            params={"service_type": service, "cursor": page["next_cursor"]}, headers=staff.headers,
        )  # fmt: skip
        assert [(p["token_cost"], p["effective_to"]) for p in rest.json()["items"]] == [
            (7, (TODAY + 2 * DAY).isoformat())
        ]
        audited = sql(db, "SELECT action FROM admin_audit_logs WHERE admin_user_id = %s",
                      staff.admin_user_id)  # fmt: skip
        assert ("service_price.set",) in audited

    async def test_bad_input_names_the_field(
        self, db: DatabaseURLs, client: httpx.AsyncClient
    ) -> None:
        staff = new_staff_session(db)
        for body, field in (
            ({"service_type": "x", "token_cost": 0, "name": "n"}, "body.token_cost"),
            ({"service_type": "Bad Name", "token_cost": 1, "name": "n"}, "body.service_type"),
            ({"service_type": "x", "token_cost": 1, "name": "n",
              "effective_from": (TODAY - DAY).isoformat()}, "body.effective_from"),
        ):  # fmt: skip
            response = await client.post("/v1/staff/billing/service-prices", json=body,
                                         headers=staff.headers)  # fmt: skip
            assert field in fields(problem(response, 422))

    async def test_members_cannot_set_prices(
        self, db: DatabaseURLs, client: httpx.AsyncClient
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        response = await client.post(
            "/v1/staff/billing/service-prices",
            json={"service_type": "x", "token_cost": 1, "name": "n"}, headers=owner.headers,
        )  # fmt: skip
        problem(response, 401)
