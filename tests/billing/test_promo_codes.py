"""Promo codes: why a code does not apply, what it is worth, redemption limits held under
concurrency, the validation route and staff management."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from markettina.billing.promo_codes import PromoCodeRefused, evaluate_promo, redeem_promo
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from tests.billing.ledger_support import new_wallet
from tests.support.checks import fields, problem, sql
from tests.support.identity import new_account, new_member
from tests.support.staff import new_staff_session

NOW = dt.datetime.now(dt.UTC)
HOUR = dt.timedelta(hours=1)


async def _promo(session: AsyncSession, **columns: Any) -> str:
    code = columns.pop("code", f"P{uuid.uuid4().hex[:10]}")
    values = {"discount_type": "percent", "discount_value": 10} | columns
    names = ", ".join(values)
    await session.execute(
        text(f"INSERT INTO promo_codes (code, {names}) VALUES (:code, "
             + ", ".join(f":{n}" for n in values) + ")"),
        {"code": code, **values},
    )  # fmt: skip
    return code


async def _decide(session: AsyncSession, account: uuid.UUID, code: str, **kw: Any) -> Any:
    args = {"package_id": None, "amount_cents": 1000, "plan": "free"} | kw
    return await evaluate_promo(session, account_id=account, code=code, **args)


class TestEvaluate:
    @pytest.mark.parametrize(
        ("columns", "asked", "reason"),
        [
            ({"is_active": False}, {}, "inactive"),
            ({"valid_from": NOW + HOUR}, {}, "not_yet_valid"),
            ({"valid_to": NOW - HOUR}, {}, "expired"),
            ({"max_uses": 2, "current_uses": 2}, {}, "exhausted"),
            ({"min_purchase_cents": 1001}, {}, "below_minimum"),
            ({"applicable_packages": [uuid.uuid4()]}, {"package_id": uuid.uuid4()},
             "package_not_applicable"),
            ({"applicable_plans": ["pro"]}, {"plan": "free"}, "plan_not_applicable"),
        ],
    )  # fmt: skip
    async def test_says_why_a_code_does_not_apply(
        self, session: AsyncSession, columns: dict[str, Any], asked: dict[str, Any], reason: str
    ) -> None:
        account = await new_wallet(session)
        decision = await _decide(session, account, await _promo(session, **columns), **asked)
        assert (decision.applies, decision.reason) == (False, reason)
        assert decision.message and decision.final_amount_cents == 1000

    async def test_an_unknown_code(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        decision = await _decide(session, account, "NOPE-NOPE")
        assert (decision.applies, decision.reason) == (False, "unknown")

    async def test_a_code_used_up_by_this_account(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        code = await _promo(session, max_uses_per_user=1)
        await redeem_promo(session, account_id=account, code=code, user_id=None,
                           transaction_id=None, discount_amount=100)  # fmt: skip
        decision = await _decide(session, account, code)
        assert decision.reason == "already_used_by_account"
        other = await new_wallet(session)
        assert (await _decide(session, other, code)).applies

    @pytest.mark.parametrize(
        ("kind", "value", "cents_off", "bonus"),
        [("percent", 15, 150, 0), ("percent", 33, 330, 0), ("fixed_amount", 250, 250, 0),
         ("fixed_amount", 5000, 999, 0), ("bonus_tokens", 40, 0, 40)],
    )  # fmt: skip
    async def test_what_a_code_is_worth(
        self, session: AsyncSession, kind: str, value: int, cents_off: int, bonus: int
    ) -> None:
        account = await new_wallet(session)
        code = await _promo(session, discount_type=kind, discount_value=value)
        amount = 999 if value == 5000 else 1000
        decision = await _decide(session, account, code.lower(), amount_cents=amount)
        assert decision.applies and decision.code == code
        assert (decision.discount_cents, decision.bonus_tokens) == (cents_off, bonus)
        assert decision.final_amount_cents == amount - cents_off

    async def test_package_and_plan_targets_accept_their_own(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        package = uuid.uuid4()
        code = await _promo(session, applicable_packages=[package], applicable_plans=["pro"])
        assert (await _decide(session, account, code, package_id=package, plan="pro")).applies


class TestRedeem:
    async def test_counts_the_use_and_refuses_past_the_limit(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        code = await _promo(session, max_uses=1, max_uses_per_user=5)
        await redeem_promo(session, account_id=account, code=code, user_id=None,
                           transaction_id=None, discount_amount=100)  # fmt: skip
        uses = await session.scalar(
            text("SELECT current_uses FROM promo_codes WHERE code = :c"), {"c": code}
        )
        assert uses == 1
        with pytest.raises(PromoCodeRefused) as refused:
            await redeem_promo(session, account_id=account, code=code, user_id=None,
                               transaction_id=None, discount_amount=100)  # fmt: skip
        assert (refused.value.status, refused.value.code) == (409, "promo_exhausted")

    async def test_rechecks_the_purchase_when_given(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        code = await _promo(session, min_purchase_cents=5000)
        with pytest.raises(PromoCodeRefused) as refused:
            await redeem_promo(
                session, account_id=account, code=code, user_id=None, transaction_id=None,
                discount_amount=1, amount_cents=100,
            )  # fmt: skip
        assert refused.value.code == "promo_below_minimum"


@pytest.fixture
async def committed(fresh_db: DatabaseURLs) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(fresh_db.app, pool_size=12, max_overflow=0)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def _redeem_concurrently(
    sessions: async_sessionmaker[AsyncSession], code: str, accounts: list[uuid.UUID]
) -> int:
    async def one(account: uuid.UUID) -> bool:
        try:
            async with unit_of_work(sessions, account_id=account) as session:
                await redeem_promo(session, account_id=account, code=code, user_id=None,
                                   transaction_id=None, discount_amount=10)  # fmt: skip
        except PromoCodeRefused:
            return False
        return True

    return sum(await asyncio.gather(*(one(a) for a in accounts)))


class TestLimitsUnderConcurrency:
    async def test_global_limit(
        self, fresh_db: DatabaseURLs, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        code = f"G{uuid.uuid4().hex[:8]}"
        sql(fresh_db, "INSERT INTO promo_codes (code, discount_type, discount_value, max_uses)"
            " VALUES (%s, 'percent', 10, 3)", code)  # fmt: skip
        accounts = [new_account(fresh_db) for _ in range(10)]
        assert await _redeem_concurrently(committed, code, accounts) == 3
        assert sql(fresh_db, "SELECT current_uses FROM promo_codes WHERE code = %s", code) == [(3,)]

    async def test_per_account_limit(
        self, fresh_db: DatabaseURLs, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        code = f"A{uuid.uuid4().hex[:8]}"
        sql(fresh_db, "INSERT INTO promo_codes (code, discount_type, discount_value,"
            " max_uses_per_user) VALUES (%s, 'percent', 10, 2)", code)  # fmt: skip
        account = new_account(fresh_db)
        assert await _redeem_concurrently(committed, code, [account] * 8) == 2
        assert sql(fresh_db, "SELECT count(*) FROM promo_redemptions") == [(2,)]


class TestRoutes:
    async def test_validate_answers_why_not(
        self, db: DatabaseURLs, client: httpx.AsyncClient
    ) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        code = f"V{uuid.uuid4().hex[:8]}"
        sql(db, "INSERT INTO promo_codes (code, discount_type, discount_value,"
            " min_purchase_cents) VALUES (%s, 'fixed_amount', 300, 2000)", code)  # fmt: skip
        low = await client.post("/v1/billing/promo-codes/validate",
                                json={"code": code, "amount_cents": 1000},
                                headers=viewer.headers)  # fmt: skip
        assert low.status_code == 200, low.text
        assert (low.json()["applies"], low.json()["reason"]) == (False, "below_minimum")
        ok = await client.post("/v1/billing/promo-codes/validate",
                               json={"code": code, "amount_cents": 2500},
                               headers=viewer.headers)  # fmt: skip
        assert ok.json() | {"code": code} == {
            "code": code, "applies": True, "reason": None, "message": None,
            "discount_type": "fixed_amount", "discount_cents": 300, "bonus_tokens": 0,
            "amount_cents": 2500, "final_amount_cents": 2200,
        }  # fmt: skip

    async def test_validate_uses_the_accounts_plan(
        self, db: DatabaseURLs, client: httpx.AsyncClient
    ) -> None:
        account = new_account(db)
        sql(db, "UPDATE accounts SET plan_tier = 'pro' WHERE id = %s", account)
        member = new_member(db, account, "viewer")
        code = f"PL{uuid.uuid4().hex[:8]}"
        sql(db, "INSERT INTO promo_codes (code, discount_type, discount_value, applicable_plans)"
            " VALUES (%s, 'percent', 10, '{pro}')", code)  # fmt: skip
        response = await client.post("/v1/billing/promo-codes/validate",
                                     json={"code": code, "amount_cents": 1000},
                                     headers=member.headers)  # fmt: skip
        assert response.json()["applies"] is True
        other = new_member(db, new_account(db), "viewer")
        response = await client.post("/v1/billing/promo-codes/validate",
                                     json={"code": code, "amount_cents": 1000},
                                     headers=other.headers)  # fmt: skip
        assert response.json()["reason"] == "plan_not_applicable"

    async def test_validate_bad_input(self, db: DatabaseURLs, client: httpx.AsyncClient) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        response = await client.post("/v1/billing/promo-codes/validate",
                                     json={"code": "x y", "amount_cents": -1},
                                     headers=viewer.headers)  # fmt: skip
        assert set(fields(problem(response, 422))) == {"body.code", "body.amount_cents"}

    async def test_staff_create_list_read_and_retire(
        self, db: DatabaseURLs, client: httpx.AsyncClient
    ) -> None:
        staff = new_staff_session(db)
        code = f"S{uuid.uuid4().hex[:8]}"
        body = {"code": code, "discount_type": "bonus_tokens", "discount_value": 25,
                "max_uses": 100, "applicable_plans": ["starter"]}  # fmt: skip
        created = await client.post("/v1/staff/billing/promo-codes", json=body,
                                    headers=staff.headers)  # fmt: skip
        assert created.status_code == 201, created.text
        promo = created.json()
        assert (promo["current_uses"], promo["max_uses_per_user"]) == (0, 1)
        again = await client.post(
            "/v1/staff/billing/promo-codes",
            json=body | {"code": code.lower()},
            headers=staff.headers,
        )
        problem(again, 409)
        read = await client.get(f"/v1/staff/billing/promo-codes/{promo['id']}",
                                headers=staff.headers)  # fmt: skip
        assert read.json()["code"] == code
        retired = await client.patch(
            f"/v1/staff/billing/promo-codes/{promo['id']}",
            json={"is_active": False},
            headers=staff.headers,
        )
        assert retired.json()["is_active"] is False and retired.json()["max_uses"] == 100
        listed = await client.get("/v1/staff/billing/promo-codes", params={"active": "false"},
                                  headers=staff.headers)  # fmt: skip
        assert promo["id"] in [p["id"] for p in listed.json()["items"]]
        missing = await client.get(f"/v1/staff/billing/promo-codes/{uuid.uuid4()}",
                                   headers=staff.headers)  # fmt: skip
        problem(missing, 404, "promo_code_not_found")
        actions = {
            a
            for (a,) in sql(
                db,
                "SELECT action FROM admin_audit_logs WHERE admin_user_id = %s",
                staff.admin_user_id,
            )
        }
        assert {"promo_code.create", "promo_code.update", "promo_code.view"} <= actions

    async def test_staff_bad_input(self, db: DatabaseURLs, client: httpx.AsyncClient) -> None:
        staff = new_staff_session(db)
        for body, field in (
            ({"code": "OK123", "discount_type": "percent", "discount_value": 150}, "body"),
            ({"code": "OK123", "discount_type": "gift", "discount_value": 1},
             "body.discount_type"),
            ({"code": "OK123", "discount_type": "percent", "discount_value": 1,
              "valid_from": NOW.isoformat(), "valid_to": (NOW - HOUR).isoformat()}, "body"),
        ):  # fmt: skip
            response = await client.post("/v1/staff/billing/promo-codes", json=body,
                                         headers=staff.headers)  # fmt: skip
            assert field in fields(problem(response, 422))
        promo = await client.post(
            "/v1/staff/billing/promo-codes",
            json={"code": f"M{uuid.uuid4().hex[:8]}", "discount_type": "percent",
                  "discount_value": 5}, headers=staff.headers,
        )  # fmt: skip
        sql(db, "UPDATE promo_codes SET current_uses = 3 WHERE id = %s", promo.json()["id"])
        below = await client.patch(f"/v1/staff/billing/promo-codes/{promo.json()['id']}",
                                   json={"max_uses": 2}, headers=staff.headers)  # fmt: skip
        problem(below, 422)
