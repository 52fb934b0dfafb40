"""Work charged to a campaign: ``spent_tokens`` moves with the ledger entry, in one write,
or nothing moves at all (402 past the budget, 409 once the campaign is closed, 404 for
none); a replayed key charges nothing again; a refund gives the tokens back; only the
ledger can move ``spent_tokens``; a charge does not make an editor's version stale."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.billing import public as billing
from tests.billing.ledger_support import new_wallet, wallet_state

CAPTION = {"service_type": "text_generation", "service_subtype": "social_caption"}  # 5 tokens


async def new_campaign(
    session: AsyncSession, account: uuid.UUID, *, budget: int | None, status: str = "active"
) -> uuid.UUID:
    campaign_id: uuid.UUID = (
        await session.execute(
            text(
                "INSERT INTO campaigns (account_id, name, budget_tokens, status)"
                " VALUES (:a, 'Spring', :b, :s) RETURNING id"
            ),
            {"a": account, "b": budget, "s": status},
        )
    ).scalar_one()
    return campaign_id


async def campaign_row(session: AsyncSession, campaign: uuid.UUID) -> tuple[int, int]:
    row = (
        await session.execute(
            text("SELECT spent_tokens, version FROM campaigns WHERE id = :c"), {"c": campaign}
        )
    ).one()
    return row.spent_tokens, row.version


async def ledger_for(session: AsyncSession, campaign: uuid.UUID) -> list[tuple[str, int]]:
    rows = await session.execute(
        text(
            "SELECT type, amount FROM token_transactions WHERE campaign_id = :c"
            " ORDER BY created_at, type DESC"
        ),
        {"c": campaign},
    )
    return [(r.type, r.amount) for r in rows]


class TestChargeToACampaign:
    async def test_the_entry_names_the_campaign_and_moves_its_spent_tokens(
        self, session: AsyncSession
    ) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=20)
        done = await billing.charge(
            session, account_id=account, quantity=2, campaign_id=campaign, **CAPTION
        )
        assert (done.tokens, done.balance_after) == (10, 90)
        assert (await campaign_row(session, campaign))[0] == 10
        assert await ledger_for(session, campaign) == [("usage", -10)]
        event = (
            await session.execute(
                text(
                    "SELECT event_data FROM domain_events WHERE account_id = :a"
                    " AND event_type = 'tokens.consumed'"
                ),
                {"a": account},
            )
        ).scalar_one()
        assert event["campaign_id"] == str(campaign)

    async def test_a_charge_past_the_budget_is_402_and_nothing_moves(
        self, session: AsyncSession
    ) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=12)
        await billing.charge(session, account_id=account, quantity=2, campaign_id=campaign,
                             **CAPTION)  # fmt: skip
        with pytest.raises(billing.CampaignBudgetExhausted) as refused:
            await billing.charge(session, account_id=account, campaign_id=campaign, **CAPTION)
        assert refused.value.status == 402 and refused.value.code == "campaign_budget_exhausted"
        assert refused.value.extensions == {"budget_tokens": 12, "spent_tokens": 10, "price": 5}
        assert (await campaign_row(session, campaign))[0] == 10
        assert await ledger_for(session, campaign) == [("usage", -10)]
        assert (await wallet_state(session, account)).balance == 90

    async def test_the_budget_can_be_spent_exactly(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=10)
        await billing.charge(session, account_id=account, quantity=2, campaign_id=campaign,
                             **CAPTION)  # fmt: skip
        assert (await campaign_row(session, campaign))[0] == 10

    async def test_without_a_budget_only_the_wallet_limits(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=7)
        campaign = await new_campaign(session, account, budget=None)
        await billing.charge(session, account_id=account, campaign_id=campaign, **CAPTION)
        with pytest.raises(billing.InsufficientTokens):
            await billing.charge(session, account_id=account, campaign_id=campaign, **CAPTION)
        assert (await campaign_row(session, campaign))[0] == 5

    async def test_a_short_wallet_leaves_the_campaign_untouched(
        self, session: AsyncSession
    ) -> None:
        account = await new_wallet(session, tokens=3)
        campaign = await new_campaign(session, account, budget=100)
        with pytest.raises(billing.InsufficientTokens):
            await billing.charge(session, account_id=account, campaign_id=campaign, **CAPTION)
        assert (await campaign_row(session, campaign))[0] == 0
        assert await ledger_for(session, campaign) == []

    @pytest.mark.parametrize("status", ["completed", "archived"])
    async def test_a_closed_campaign_takes_no_work(
        self, session: AsyncSession, status: str
    ) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=None, status=status)
        with pytest.raises(billing.CampaignNotChargeable) as refused:
            await billing.charge(session, account_id=account, campaign_id=campaign, **CAPTION)
        assert refused.value.status == 409 and refused.value.extensions == {"status": status}
        assert (await wallet_state(session, account)).balance == 100

    @pytest.mark.parametrize("status", ["planning", "paused"])
    async def test_a_campaign_being_planned_or_paused_takes_work(
        self, session: AsyncSession, status: str
    ) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=None, status=status)
        await billing.charge(session, account_id=account, campaign_id=campaign, **CAPTION)
        assert (await campaign_row(session, campaign))[0] == 5

    async def test_an_unknown_or_deleted_campaign_is_404(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=None)
        await session.execute(
            text("UPDATE campaigns SET deleted_at = now() WHERE id = :c"), {"c": campaign}
        )
        for missing in (campaign, uuid.uuid4()):
            with pytest.raises(billing.CampaignNotFound):
                await billing.charge(session, account_id=account, campaign_id=missing, **CAPTION)
        assert (await wallet_state(session, account)).balance == 100

    async def test_a_replayed_key_charges_the_campaign_once(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=5)
        first = await billing.charge(
            session, account_id=account, campaign_id=campaign, idempotency_key="gen-1", **CAPTION
        )
        again = await billing.charge(
            session, account_id=account, campaign_id=campaign, idempotency_key="gen-1", **CAPTION
        )
        assert again.replayed and again.transaction_id == first.transaction_id
        assert (await campaign_row(session, campaign))[0] == 5
        assert await ledger_for(session, campaign) == [("usage", -5)]

    async def test_a_key_replayed_for_another_campaign_is_refused(
        self, session: AsyncSession
    ) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=None)
        other = await new_campaign(session, account, budget=None)
        await billing.charge(
            session, account_id=account, campaign_id=campaign, idempotency_key="k", **CAPTION
        )
        for elsewhere in (other, None):
            with pytest.raises(billing.IdempotencyKeyReused):
                await billing.charge(
                    session, account_id=account, campaign_id=elsewhere, idempotency_key="k",
                    **CAPTION,
                )  # fmt: skip
        assert (await campaign_row(session, other))[0] == 0

    async def test_a_charge_does_not_move_the_version(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=None)
        await billing.charge(session, account_id=account, campaign_id=campaign, **CAPTION)
        assert await campaign_row(session, campaign) == (5, 1)
        await session.execute(
            text("UPDATE campaigns SET name = 'Summer' WHERE id = :c"), {"c": campaign}
        )
        assert await campaign_row(session, campaign) == (5, 2)


class TestRefundOfACampaignCharge:
    async def test_gives_the_tokens_back_to_the_campaign(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=10)
        done = await billing.charge(
            session, account_id=account, quantity=2, campaign_id=campaign, **CAPTION
        )
        refund = await billing.refund_charge(
            session, account_id=account, transaction_id=done.transaction_id
        )
        assert refund.amount == 10
        assert (await campaign_row(session, campaign))[0] == 0
        assert await ledger_for(session, campaign) == [("usage", -10), ("refund", 10)]
        # the budget is free again
        await billing.charge(session, account_id=account, quantity=2, campaign_id=campaign,
                             **CAPTION)  # fmt: skip
        assert (await campaign_row(session, campaign))[0] == 10
        with pytest.raises(billing.AlreadyRefunded):
            await billing.refund_charge(
                session, account_id=account, transaction_id=done.transaction_id
            )
        assert (await campaign_row(session, campaign))[0] == 10

    async def test_a_charge_to_no_campaign_leaves_campaigns_alone(
        self, session: AsyncSession
    ) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=10)
        done = await billing.charge(session, account_id=account, **CAPTION)
        await billing.refund_charge(session, account_id=account, transaction_id=done.transaction_id)
        assert (await campaign_row(session, campaign))[0] == 0


class TestOnlyTheLedgerMovesSpentTokens:
    async def test_the_app_cannot_write_spent_tokens(self, session: AsyncSession) -> None:
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=None)
        for statement in (
            "UPDATE campaigns SET spent_tokens = 0 WHERE id = :c",
            "INSERT INTO campaigns (account_id, name, spent_tokens)"
            " SELECT account_id, 'x', 3 FROM campaigns WHERE id = :c",
        ):
            with pytest.raises(DBAPIError, match="permission denied"):
                async with session.begin_nested():
                    await session.execute(text(statement), {"c": campaign})

    async def test_an_entry_past_the_budget_cannot_be_written_at_all(
        self, session: AsyncSession
    ) -> None:
        """Whatever writes the ledger, the campaign's CHECK refuses an overspend."""
        account = await new_wallet(session, tokens=100)
        campaign = await new_campaign(session, account, budget=4)
        with pytest.raises(DBAPIError, match="ck_campaigns_spent_within_budget"):
            async with session.begin_nested():
                await session.execute(
                    text(
                        "INSERT INTO token_transactions (account_id, wallet_id, type, amount,"
                        " campaign_id) SELECT account_id, id, 'usage', -5, :c"
                        " FROM token_wallets WHERE account_id = :a"
                    ),
                    {"a": account, "c": campaign},
                )
        assert (await campaign_row(session, campaign))[0] == 0
        assert (await wallet_state(session, account)).balance == 100
