"""Properties of the ledger over random sequences of credits, charges, refunds, reversals
and replays, sequential and concurrent: the balance always equals the sum of the ledger,
never goes below zero, matches a plain model of the rules, and the totals match the
entries of their type."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from markettina.billing import public as billing
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from tests.billing.ledger_support import WalletState, new_wallet, wallet_state
from tests.support.checks import sql
from tests.support.identity import new_account

# seeded prices the operations charge
PRICES = {
    ("text_generation", "social_caption"): 5, ("image_generation", "dalle3"): 20,
    ("social_publish", "single_platform"): 2, ("video_generation", "short_video"): 100,
}  # fmt: skip

credit = st.tuples(st.just("credit"), st.sampled_from(["purchase", "bonus"]),
                   st.integers(1, 300))  # fmt: skip
charge = st.tuples(st.just("charge"), st.sampled_from(sorted(PRICES)), st.integers(1, 4))
refund = st.tuples(st.just("refund"), st.integers(0, 20))
reverse = st.tuples(st.just("reverse"), st.integers(1, 400))
adjust = st.tuples(st.just("adjust"), st.integers(-200, 200).filter(bool))
replay = st.tuples(st.just("replay"), st.integers(0, 20))
operation = st.one_of(credit, charge, refund, reverse, adjust, replay)


@dataclass
class Model:
    """The rules in plain Python: what the wallet must hold."""

    balance: int = 0
    charges: list[tuple[uuid.UUID, int]] = field(default_factory=list)
    refunded: set[uuid.UUID] = field(default_factory=set)
    keyed: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)


def check(state: WalletState) -> None:
    assert state.balance == state.ledger_sum >= 0
    assert state.min_balance_after is None or state.min_balance_after >= 0
    assert state.total_purchased == state.by_type.get("purchase", 0)
    assert state.total_used == -state.by_type.get("usage", 0)
    assert state.total_bonus == state.by_type.get("bonus", 0)
    assert state.total_refunded == state.refunded_abs


async def apply(session: AsyncSession, account: uuid.UUID, model: Model, op: tuple) -> None:  # type: ignore[type-arg]
    kind = op[0]
    key = f"{kind}-{uuid.uuid4()}"
    if kind == "replay":
        if not model.keyed:
            return
        key, op = model.keyed[op[1] % len(model.keyed)]
        kind = op[0]
    else:
        model.keyed.append((key, op))
    if kind == "credit":
        before = await _count(session, account)
        await billing.credit_tokens(
            session, account_id=account, kind=op[1], amount=op[2], reference_type="test",
            reference_id=key, description="test", idempotency_key=key,
        )  # fmt: skip
        if await _count(session, account) > before:
            model.balance += op[2]
    elif kind == "adjust":
        try:
            before = await _count(session, account)
            await billing.credit_tokens(
                session, account_id=account, kind="adjustment", amount=op[1],
                reference_type="test", reference_id=key, description="test", idempotency_key=key,
            )  # fmt: skip
            if await _count(session, account) > before:
                model.balance += op[1]
        except billing.InsufficientTokens:
            assert model.balance + op[1] < 0
    elif kind == "charge":
        cost = PRICES[op[1]] * op[2]
        try:
            done = await billing.charge(
                session, account_id=account, service_type=op[1][0], service_subtype=op[1][1],
                quantity=op[2], idempotency_key=key,
            )  # fmt: skip
        except billing.InsufficientTokens as short:
            assert model.balance < cost and short.balance == model.balance
            return
        if not done.replayed:
            assert model.balance >= cost
            model.balance -= cost
            model.charges.append((done.transaction_id, cost))
    elif kind == "refund":
        if not model.charges:
            return
        charged, cost = model.charges[op[1] % len(model.charges)]
        try:
            await billing.refund_charge(session, account_id=account, transaction_id=charged)
        except billing.AlreadyRefunded:
            assert charged in model.refunded
            return
        assert charged not in model.refunded
        model.refunded.add(charged)
        model.balance += cost
    elif kind == "reverse":
        before = await _count(session, account)
        reversal = await billing.reverse_tokens(
            session, account_id=account, amount=op[1], reference_type="payment",
            reference_id=key, description="test", idempotency_key=key,
        )  # fmt: skip
        assert reversal.taken + reversal.shortfall == op[1]
        if await _count(session, account) > before:
            assert reversal.taken == min(op[1], model.balance)
            model.balance -= reversal.taken


async def _count(session: AsyncSession, account: uuid.UUID) -> int:
    return int(
        await session.scalar(
            text("SELECT count(*) FROM token_transactions WHERE account_id = :a"), {"a": account}
        )
        or 0
    )


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(operations=st.lists(operation, max_size=25))
async def test_sequences_keep_the_ledger_and_the_wallet_equal(
    session: AsyncSession,
    operations: list[tuple],  # type: ignore[type-arg]
) -> None:
    # each example has a wallet of its own in the rolled-back transaction
    account = await new_wallet(session)
    model = Model()
    for op in operations:
        await apply(session, account, model, op)
        state = await wallet_state(session, account)
        check(state)
        assert state.balance == model.balance


@pytest.fixture(scope="module")
def concurrent_db(databases, template_db: DatabaseURLs):  # type: ignore[no-untyped-def]
    with databases.fresh(template_db) as urls:
        yield urls


@pytest.fixture
async def sessions(concurrent_db: DatabaseURLs) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(concurrent_db.app, pool_size=8, max_overflow=0)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    batches=st.lists(st.lists(operation, min_size=2, max_size=12), min_size=1, max_size=3),
)
async def test_concurrent_batches_keep_the_invariants(
    concurrent_db: DatabaseURLs,
    sessions: async_sessionmaker[AsyncSession],
    batches: list[list[tuple]],  # type: ignore[type-arg]
) -> None:
    """Each operation of a batch runs in its own committed transaction, all at once; the
    model is not used (the order is the database's), only the invariants."""
    account = new_account(concurrent_db)
    sql(concurrent_db, "INSERT INTO token_wallets (account_id) VALUES (%s)", account)
    shared = Model(balance=10**9)  # keys and charges are shared; balances are not modelled
    for batch in batches:

        async def run(op: tuple) -> None:  # type: ignore[type-arg]
            try:
                async with unit_of_work(sessions, account_id=account) as session:
                    await _apply_unmodelled(session, account, shared, op)
            except (billing.InsufficientTokens, billing.AlreadyRefunded):
                pass

        await asyncio.gather(*(run(op) for op in batch))
        async with unit_of_work(sessions, account_id=account) as session:
            check(await wallet_state(session, account))


async def _apply_unmodelled(
    session: AsyncSession,
    account: uuid.UUID,
    shared: Model,
    op: tuple,  # type: ignore[type-arg]
) -> None:
    kind = op[0]
    if kind in ("refund", "replay") and not (shared.charges if kind == "refund" else shared.keyed):
        return
    if kind == "refund":
        charged, _ = shared.charges[op[1] % len(shared.charges)]
        await billing.refund_charge(session, account_id=account, transaction_id=charged)
        return
    key = f"{kind}-{uuid.uuid4()}"
    if kind == "replay":
        key, op = shared.keyed[op[1] % len(shared.keyed)]
        kind = op[0]
    else:
        shared.keyed.append((key, op))
    if kind == "credit":
        await billing.credit_tokens(session, account_id=account, kind=op[1], amount=op[2],
                                    reference_type="t", reference_id=key, description="t",
                                    idempotency_key=key)  # fmt: skip
    elif kind == "adjust":
        await billing.credit_tokens(session, account_id=account, kind="adjustment", amount=op[1],
                                    reference_type="t", reference_id=key, description="t",
                                    idempotency_key=key)  # fmt: skip
    elif kind == "charge":
        done = await billing.charge(session, account_id=account, service_type=op[1][0],
                                    service_subtype=op[1][1], quantity=op[2],
                                    idempotency_key=key)  # fmt: skip
        shared.charges.append((done.transaction_id, 0))
    elif kind == "reverse":
        await billing.reverse_tokens(session, account_id=account, amount=op[1],
                                     reference_type="payment", reference_id=key,
                                     description="t", idempotency_key=key)  # fmt: skip
