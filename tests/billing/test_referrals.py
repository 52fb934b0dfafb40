"""Referrals: each account's code, sign-up with a code, both bonuses on the first purchase
(once), and expiry after 30 days."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.billing import public as billing
from markettina.billing.referrals import CODE_ALPHABET, expire_referrals, referral_code_of
from markettina.billing.tasks import expire_referrals_job
from markettina.kernel.db.engine import Database, open_database
from markettina.kernel.db.job_database import bind_job_database
from markettina.kernel.db.tenant import enter_tenant
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from tests.billing.ledger_support import new_wallet, wallet_state
from tests.support.checks import fields, problem, sql
from tests.support.identity import new_account, new_member


async def _buy(session: AsyncSession, account: uuid.UUID, key: str) -> None:
    await enter_tenant(session, account)
    await billing.credit_tokens(
        session, account_id=account, kind="purchase", amount=1000, reference_type="payment",
        reference_id=key, description="Pack", idempotency_key=key,
    )  # fmt: skip


async def _referral(session: AsyncSession, referred: uuid.UUID) -> tuple[str, dt.datetime]:
    row = (
        await session.execute(
            text("SELECT status, expires_at FROM referral_program WHERE referred_account_id = :a"),
            {"a": referred},
        )
    ).one()
    return row[0], row[1]


class TestCodes:
    async def test_each_account_keeps_one_code(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        code = await referral_code_of(session, account)
        assert len(code) == 8 and set(code) <= set(CODE_ALPHABET)
        assert await referral_code_of(session, account) == code
        other = await new_wallet(session)
        assert await referral_code_of(session, other) != code


class TestRegisterAndComplete:
    async def test_first_purchase_completes_with_both_bonuses_once(
        self, session: AsyncSession
    ) -> None:
        referrer = await new_wallet(session)
        code = await referral_code_of(session, referrer)
        referred = await new_wallet(session)
        await billing.register_referral(session, code=code.lower(), referred_account_id=referred,
                                        referred_user_id=None)  # fmt: skip
        status, expires = await _referral(session, referred)
        assert status == "pending"
        assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)
        await _buy(session, referred, "first")
        assert await billing.complete_referral_on_first_purchase(
            session, referred_account_id=referred
        )
        assert (await _referral(session, referred))[0] == "completed"
        assert (await wallet_state(session, referred)).total_bonus == 50
        # the tenant the caller had is set back
        assert (
            await session.scalar(text("SELECT current_setting('app.current_account_id')"))
        ) == str(referred)
        await enter_tenant(session, referrer)
        assert (await wallet_state(session, referrer)).total_bonus == 100
        await enter_tenant(session, referred)
        assert not await billing.complete_referral_on_first_purchase(
            session, referred_account_id=referred
        )
        assert (await wallet_state(session, referred)).total_bonus == 50

    async def test_a_later_purchase_completes_nothing(self, session: AsyncSession) -> None:
        referrer = await new_wallet(session)
        code = await referral_code_of(session, referrer)
        referred = await new_wallet(session)
        await billing.register_referral(session, code=code, referred_account_id=referred,
                                        referred_user_id=None)  # fmt: skip
        await _buy(session, referred, "one")
        await _buy(session, referred, "two")
        assert not await billing.complete_referral_on_first_purchase(
            session, referred_account_id=referred
        )
        assert (await wallet_state(session, referred)).total_bonus == 0

    async def test_an_expired_referral_gives_nothing(self, session: AsyncSession) -> None:
        referrer = await new_wallet(session)
        code = await referral_code_of(session, referrer)
        referred = await new_wallet(session)
        await billing.register_referral(session, code=code, referred_account_id=referred,
                                        referred_user_id=None)  # fmt: skip
        await session.execute(
            text("UPDATE referral_program SET expires_at = now() - interval '1 second'"
                 " WHERE referred_account_id = :a"), {"a": referred},
        )  # fmt: skip
        await _buy(session, referred, "late")
        assert not await billing.complete_referral_on_first_purchase(
            session, referred_account_id=referred
        )
        assert (await _referral(session, referred))[0] == "expired"

    async def test_refuses_unknown_own_and_repeated(self, session: AsyncSession) -> None:
        referrer = await new_wallet(session)
        code = await referral_code_of(session, referrer)
        with pytest.raises(billing.InvalidReferralCode) as unknown:
            await billing.register_referral(
                session, code="ZZZZZZZZ", referred_account_id=referrer, referred_user_id=None
            )
        assert [e.field for e in unknown.value.errors] == ["body.referral_code"]
        with pytest.raises(billing.InvalidReferralCode):
            await billing.register_referral(session, code=code, referred_account_id=referrer,
                                            referred_user_id=None)  # fmt: skip
        referred = await new_wallet(session)
        await billing.register_referral(session, code=code, referred_account_id=referred,
                                        referred_user_id=None)  # fmt: skip
        with pytest.raises(billing.InvalidReferralCode):
            await billing.register_referral(session, code=code, referred_account_id=referred,
                                            referred_user_id=None)  # fmt: skip


class TestExpiry:
    async def test_pending_referrals_past_30_days_expire(self, session: AsyncSession) -> None:
        referrer = await new_wallet(session)
        code = await referral_code_of(session, referrer)
        old, fresh = await new_wallet(session), await new_wallet(session)
        for referred in (old, fresh):
            await billing.register_referral(session, code=code, referred_account_id=referred,
                                            referred_user_id=None)  # fmt: skip
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
        await session.execute(
            text("UPDATE referral_program SET expires_at = now() + interval '40 days'"
                 " WHERE referred_account_id = :a"), {"a": fresh},
        )  # fmt: skip
        assert await expire_referrals(session, now=later) >= 1
        assert [(await _referral(session, r))[0] for r in (old, fresh)] == ["expired", "pending"]


@pytest.fixture
async def job_db(fresh_db: DatabaseURLs) -> AsyncIterator[Database]:
    database = open_database(fresh_db.app)
    bind_job_database(database)
    yield database
    bind_job_database(None)
    await database.dispose()


async def test_the_periodic_job_expires_and_commits(
    fresh_db: DatabaseURLs, job_db: Database
) -> None:
    referrer, referred = new_account(fresh_db), new_account(fresh_db)
    sql(fresh_db, "INSERT INTO referral_program (referrer_account_id, referral_code,"
        " referred_account_id, expires_at) VALUES (%s, 'OLDCODE1', %s, now() - interval '1 day')",
        referrer, referred)  # fmt: skip
    assert await expire_referrals_job(timestamp=0) == 1
    assert sql(fresh_db, "SELECT status FROM referral_program") == [("expired",)]


class TestRoutes:
    async def test_sign_up_with_a_code_then_first_purchase(
        self, db: DatabaseURLs, client: httpx.AsyncClient
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        mine = await client.get("/v1/billing/referral", headers=owner.headers)
        assert mine.status_code == 200, mine.text
        code = mine.json()["code"]
        assert mine.json()["referrals"] == []
        registered = await client.post("/v1/auth/register", json={
            "email": f"new-{uuid.uuid4().hex[:8]}@example.com", "password": "a long password 1",
            "referral_code": code,
        })  # fmt: skip
        assert registered.status_code == 201, registered.text
        referred = uuid.UUID(registered.json()["account"]["id"])
        database = open_database(db.app)
        try:
            async with unit_of_work(database.sessions, account_id=referred) as session:
                await _buy(session, referred, "cs_first")
                assert await billing.complete_referral_on_first_purchase(
                    session, referred_account_id=referred
                )
        finally:
            await database.dispose()
        after = await client.get("/v1/billing/referral", headers=owner.headers)
        [referral] = after.json()["referrals"]
        assert referral["status"] == "completed" and referral["referrer_bonus_tokens"] == 100
        wallet = await client.get("/v1/billing/wallet", headers=owner.headers)
        assert wallet.json()["total_bonus"] == 100

    async def test_sign_up_with_a_bad_code_is_refused_whole(
        self, db: DatabaseURLs, client: httpx.AsyncClient
    ) -> None:
        email = f"bad-{uuid.uuid4().hex[:8]}@example.com"
        for code, status in (("NOSUCHCODE", 422), ("bad code!", 422)):
            response = await client.post("/v1/auth/register", json={
                "email": email, "password": "a long password 1", "referral_code": code,
            })  # fmt: skip
            assert fields(problem(response, status)) == ["body.referral_code"]
        assert sql(db, "SELECT count(*) FROM users WHERE email = %s", email) == [(0,)]
