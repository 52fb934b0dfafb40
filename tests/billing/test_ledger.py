"""The ledger service: charges priced on their day, 402 when short, refunds once, credits and
reversals idempotent on their keys, and the balance never below zero."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.billing import public as billing
from markettina.billing.pricing import set_price
from markettina.kernel.errors import NotFound, ValidationFailed
from tests.billing.ledger_support import new_wallet, wallet_state

TODAY = dt.datetime.now(dt.UTC).date()


async def _events(session: AsyncSession, account_id: uuid.UUID) -> list[tuple[str, dict]]:
    rows = await session.execute(
        text(
            "SELECT event_type, event_data FROM domain_events WHERE account_id = :a"
            " AND event_type LIKE 'tokens.%' ORDER BY event_type"
        ),
        {"a": account_id},
    )
    return [(r[0], r[1]) for r in rows]


class TestCharge:
    async def test_charges_the_seeded_price_times_quantity(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        done = await billing.charge(
            session, account_id=account, service_type="text_generation",
            service_subtype="social_caption", quantity=3, reference_type="post",
            reference_id="42",
        )  # fmt: skip
        assert (done.tokens, done.balance_after, done.replayed) == (15, 85, False)
        state = await wallet_state(session, account)
        assert (state.balance, state.total_used) == (85, 15)
        [row] = (
            await session.execute(
                text(
                    "SELECT type, amount, service_type, service_subtype, reference_id"
                    " FROM token_transactions WHERE id = :id"
                ),
                {"id": done.transaction_id},
            )
        ).all()
        assert tuple(row) == ("usage", -15, "text_generation", "social_caption", "42")
        [(_, data)] = [e for e in await _events(session, account) if e[0] == "tokens.consumed"]
        assert data["quantity"] == 3 and data["amount"] == -15

    async def test_short_wallet_is_402_with_balance_and_price(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=40)
        with pytest.raises(billing.InsufficientTokens) as refused:
            await billing.charge(session, account_id=account, service_type="text_generation",
                                 service_subtype="blog_post")  # fmt: skip
        assert refused.value.status == 402
        assert refused.value.extensions == {
            "balance": 40, "price": 50, "service_type": "text_generation"
        }  # fmt: skip
        assert (await wallet_state(session, account)).balance == 40

    async def test_exact_balance_can_be_spent_to_zero(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=50)
        done = await billing.charge(session, account_id=account, service_type="text_generation",
                                    service_subtype="blog_post")  # fmt: skip
        assert done.balance_after == 0

    async def test_an_account_without_a_wallet_has_nothing(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        await session.execute(text("SELECT 1"))
        other = uuid.uuid4()
        with pytest.raises(billing.InsufficientTokens) as refused:
            await billing.charge(session, account_id=other, service_type="social_publish",
                                 service_subtype="single_platform")  # fmt: skip
        assert refused.value.balance == 0 and account != other

    async def test_an_unpriced_service_is_refused(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        with pytest.raises(billing.ServiceNotPriced):
            await billing.charge(session, account_id=account, service_type="teleportation",
                                 service_subtype=None)  # fmt: skip

    async def test_quantity_below_one_is_refused(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        with pytest.raises(ValidationFailed):
            await billing.charge(session, account_id=account, service_type="text_generation",
                                 service_subtype="blog_post", quantity=0)  # fmt: skip

    async def test_the_price_in_effect_on_the_day_is_charged(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=1000)
        await set_price(
            session, service_type="analytics", service_subtype="competitor_report",
            token_cost=45, name="Competitor report", description=None,
            effective_from=TODAY + dt.timedelta(days=10), today=TODAY,
        )  # fmt: skip
        now = await billing.charge(session, account_id=account, service_type="analytics",
                                   service_subtype="competitor_report")  # fmt: skip
        later = await billing.charge(
            session, account_id=account, service_type="analytics",
            service_subtype="competitor_report", on=TODAY + dt.timedelta(days=10),
        )  # fmt: skip
        assert (now.tokens, later.tokens) == (30, 45)

    async def test_a_repeated_key_returns_the_first_charge(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        args = {"account_id": account, "service_type": "image_generation",
                "service_subtype": "dalle3", "idempotency_key": "job-7"}  # fmt: skip
        first = await billing.charge(session, **args)
        again = await billing.charge(session, **args)
        assert again.transaction_id == first.transaction_id and again.replayed
        assert (await wallet_state(session, account)).balance == 80


class TestRefundCharge:
    async def test_gives_the_tokens_back_once(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        done = await billing.charge(session, account_id=account, service_type="text_generation",
                                    service_subtype="email_copy")  # fmt: skip
        refund = await billing.refund_charge(
            session, account_id=account, transaction_id=done.transaction_id, reason="failed"
        )
        assert (refund.type, refund.amount, refund.balance_after) == ("refund", 20, 100)
        assert refund.service_type == "text_generation"
        with pytest.raises(billing.AlreadyRefunded) as again:
            await billing.refund_charge(session, account_id=account,
                                        transaction_id=done.transaction_id)  # fmt: skip
        assert again.value.status == 409
        state = await wallet_state(session, account)
        assert (state.balance, state.total_refunded, state.total_used) == (100, 20, 20)

    async def test_only_charges_of_this_account(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        purchase = (
            await session.execute(
                text("SELECT id FROM token_transactions WHERE account_id = :a"), {"a": account}
            )
        ).scalar_one()
        with pytest.raises(ValidationFailed):
            await billing.refund_charge(session, account_id=account, transaction_id=purchase)
        with pytest.raises(NotFound):
            await billing.refund_charge(session, account_id=account, transaction_id=uuid.uuid4())


class TestCredit:
    async def test_credits_are_idempotent_on_their_key(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        args = {"account_id": account, "kind": "purchase", "amount": 500,
                "reference_type": "payment", "reference_id": "pi_1",
                "description": "Pack", "idempotency_key": "checkout:cs_1"}  # fmt: skip
        first = await billing.credit_tokens(session, **args)
        assert await billing.credit_tokens(session, **args) == first
        bonus = await billing.credit_tokens(
            session, **(args | {"kind": "bonus", "amount": 50, "idempotency_key": "bonus:cs_1"})
        )
        assert bonus != first
        state = await wallet_state(session, account)
        assert (state.balance, state.total_purchased, state.total_bonus) == (550, 500, 50)
        assert [e[0] for e in await _events(session, account)] == [
            "tokens.granted", "tokens.purchased"
        ]  # fmt: skip

    async def test_creates_the_wallet_when_missing(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        await session.execute(text("SELECT 1"))
        slug = f"acct-{uuid.uuid4().hex[:10]}"
        bare = (
            await session.execute(
                text("INSERT INTO accounts (name, slug) VALUES (:s, :s) RETURNING id"), {"s": slug}
            )
        ).scalar_one()
        from markettina.kernel.db.tenant import enter_tenant

        await enter_tenant(session, bare)
        await billing.credit_tokens(
            session, account_id=bare, kind="bonus", amount=5, reference_type="t",
            reference_id="1", description="d", idempotency_key="k",
        )  # fmt: skip
        assert (await wallet_state(session, bare)).balance == 5 and account != bare

    async def test_a_negative_adjustment_never_overdraws(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=10)
        with pytest.raises(billing.InsufficientTokens):
            await billing.credit_tokens(
                session, account_id=account, kind="adjustment", amount=-11,
                reference_type="staff", reference_id="1", description="d", idempotency_key="a1",
            )  # fmt: skip
        await billing.credit_tokens(
            session, account_id=account, kind="adjustment", amount=-10,
            reference_type="staff", reference_id="1", description="d", idempotency_key="a2",
        )  # fmt: skip
        assert (await wallet_state(session, account)).balance == 0

    @pytest.mark.parametrize(("kind", "amount"), [("purchase", 0), ("bonus", -5), ("usage", 5)])
    async def test_refuses_nonsense(self, session: AsyncSession, kind: str, amount: int) -> None:
        account = await new_wallet(session)
        with pytest.raises(ValidationFailed):
            await billing.credit_tokens(
                session, account_id=account, kind=kind, amount=amount,  # type: ignore[arg-type]
                reference_type="t", reference_id="1", description="d", idempotency_key="k",
            )  # fmt: skip

    async def test_a_key_of_another_kind_is_a_conflict(self, session: AsyncSession) -> None:
        account = await new_wallet(session)
        args = {"account_id": account, "amount": 5, "reference_type": "t",
                "reference_id": "1", "description": "d", "idempotency_key": "same"}  # fmt: skip
        await billing.credit_tokens(session, kind="purchase", **args)
        with pytest.raises(billing.IdempotencyKeyReused):
            await billing.credit_tokens(session, kind="bonus", **args)


class TestReverse:
    async def test_takes_back_down_to_zero_and_records_the_shortfall(
        self, session: AsyncSession
    ) -> None:
        account = await new_wallet(session, tokens=100)
        await billing.charge(session, account_id=account, service_type="video_generation",
                             service_subtype="short_video")  # fmt: skip
        await billing.credit_tokens(
            session, account_id=account, kind="purchase", amount=30, reference_type="payment",
            reference_id="pi_2", description="Pack", idempotency_key="p2",
        )  # fmt: skip
        reversal = await billing.reverse_tokens(
            session, account_id=account, amount=100, reference_type="payment",
            reference_id="pi_1", description="Refund of pi_1", idempotency_key="refund:pi_1",
        )  # fmt: skip
        assert (reversal.taken, reversal.shortfall) == (30, 70)
        state = await wallet_state(session, account)
        assert (state.balance, state.total_refunded) == (0, 30)
        # replayed after a new purchase: nothing more is taken
        await billing.credit_tokens(
            session, account_id=account, kind="purchase", amount=40, reference_type="payment",
            reference_id="pi_3", description="Pack", idempotency_key="p3",
        )  # fmt: skip
        again = await billing.reverse_tokens(
            session, account_id=account, amount=100, reference_type="payment",
            reference_id="pi_1", description="Refund of pi_1", idempotency_key="refund:pi_1",
        )  # fmt: skip
        assert again == reversal
        assert (await wallet_state(session, account)).balance == 40
        [(_, data)] = [e for e in await _events(session, account) if e[0] == "tokens.reversed"]
        assert data["shortfall"] == 70

    async def test_an_empty_wallet_loses_nothing_but_the_entry_is_kept(
        self, session: AsyncSession
    ) -> None:
        account = await new_wallet(session)
        reversal = await billing.reverse_tokens(
            session, account_id=account, amount=10, reference_type="payment",
            reference_id="pi", description="Dispute", idempotency_key="dispute:1",
        )  # fmt: skip
        assert (reversal.taken, reversal.shortfall) == (0, 10)
        assert (await wallet_state(session, account)).by_type == {"refund": 0}


async def test_402_is_problem_json_with_balance_and_price() -> None:
    """Any route that lets InsufficientTokens through answers the client this way."""
    import httpx
    from fastapi import FastAPI

    from markettina.kernel.web.problems import install_problem_handlers

    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/work")
    async def work() -> None:
        raise billing.InsufficientTokens(balance=3, price=20, service_type="image_generation")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/work")
    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["balance"], body["price"], body["service_type"]) == (
        "insufficient_tokens", 3, 20, "image_generation"
    )  # fmt: skip
