"""The outbox and the relay: typed events written in the business transaction, handed to
every matching handler once committed, retried with backoff when a handler raises."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
from pydantic import Field, ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.engine import Database, open_database
from markettina.kernel.db.tenant import current_tenant
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.events import (
    Event,
    StoredEvent,
    catalog,
    event_class,
    event_handler,
    event_matches,
    record,
    relay,
)
from markettina.kernel.events.relay import relay_batch, retry_delay_seconds
from tests.support.checks import sql
from tests.support.identity import new_account


class Pinged(Event):
    """A test event."""

    event_type: ClassVar[str] = "test_relay.pinged"
    aggregate_type: ClassVar[str] = "probe"
    version: ClassVar[int] = 3
    n: int = Field(description="A number.")
    at: dt.datetime | None = None


class Looked(Event):
    event_type: ClassVar[str] = "test_relay.looked"
    aggregate_type: ClassVar[str] = "probe"


class Stalled(Event):
    event_type: ClassVar[str] = "test_relay.stalled"
    aggregate_type: ClassVar[str] = "probe"


class FollowedUp(Event):
    event_type: ClassVar[str] = "test_relay.followed_up"
    aggregate_type: ClassVar[str] = "probe"
    of: uuid.UUID


# what the handlers saw: (handler, event id)
CALLS: list[tuple[str, uuid.UUID]] = []
RECEIVED: dict[uuid.UUID, StoredEvent] = {}
# the recorder fails (after its write) for events of these aggregate ids
FAILING: set[str] = set()
SEEN_ACCOUNTS: dict[uuid.UUID, tuple[uuid.UUID | None, list[uuid.UUID]]] = {}
SLOW = {"seconds": 0.0}


@event_handler("tests.events.recorder", "test_relay.pinged")
async def recorder(session: AsyncSession, event: StoredEvent) -> None:
    CALLS.append(("recorder", event.id))
    RECEIVED[event.id] = event
    if SLOW["seconds"]:
        await asyncio.sleep(SLOW["seconds"])
    await record(session, FollowedUp(of=event.id), account_id=event.account_id,
                 aggregate_id=event.id)  # fmt: skip
    if event.aggregate_id in FAILING:
        raise RuntimeError("receiver unavailable")


@event_handler("tests.events.second", "test_relay.*")
async def second(session: AsyncSession, event: StoredEvent) -> None:
    if event.event_type != "test_relay.followed_up":
        CALLS.append(("second", event.id))


@event_handler("tests.events.looker", "test_relay.looked")
async def looker(session: AsyncSession, event: StoredEvent) -> None:
    rows = await session.execute(text("SELECT DISTINCT account_id FROM domain_events"))
    SEEN_ACCOUNTS[event.id] = (await current_tenant(session), [r[0] for r in rows])


@event_handler("tests.events.staller", "test_relay.stalled")
async def staller(session: AsyncSession, event: StoredEvent) -> None:
    await asyncio.sleep(5)


@pytest.fixture
async def database(db: DatabaseURLs) -> AsyncIterator[Database]:
    database = open_database(db.app, pool_size=4)
    yield database
    await database.dispose()


@pytest.fixture(autouse=True)
def _clean_probe() -> None:
    CALLS.clear()
    RECEIVED.clear()
    FAILING.clear()
    SEEN_ACCOUNTS.clear()
    SLOW["seconds"] = 0.0


async def _record(database: Database, account: uuid.UUID, event: Event, **kw: Any) -> uuid.UUID:
    async with unit_of_work(database.sessions, account_id=account) as session:
        return await record(
            session, event, account_id=account, aggregate_id=kw.pop("aggregate_id", "a-1"), **kw
        )


async def _drain(database: Database, batch_size: int = 50) -> None:
    while (await relay_batch(database.sessions, batch_size=batch_size)).claimed:
        pass


def _row(db: DatabaseURLs, event_id: uuid.UUID) -> dict[str, Any]:
    columns = ("processed", "processed_at", "attempts", "next_attempt_at", "last_error",
               "event_version", "event_data", "metadata", "aggregate_id")  # fmt: skip
    rows = sql(db, f"SELECT {', '.join(columns)} FROM domain_events WHERE id = %s", event_id)
    assert len(rows) == 1
    return dict(zip(columns, rows[0], strict=True))


def _follow_ups(db: DatabaseURLs, event_id: uuid.UUID) -> int:
    rows = sql(
        db,
        "SELECT count(*) FROM domain_events WHERE event_type = 'test_relay.followed_up' "
        "AND aggregate_id = %s",
        str(event_id),
    )
    return int(rows[0][0])


# --- the published language


def test_event_classes_register_in_the_catalog_by_type() -> None:
    assert event_class("test_relay.pinged") is Pinged
    assert catalog()["test_relay.pinged"] is Pinged
    # the change-capture events of migration 0003 are declared too
    assert {"lead.created", "campaign.updated", "brand_dna.deleted", "lead.erased"} <= set(
        catalog()
    )


def test_an_event_type_is_declared_once_and_in_dotted_lowercase() -> None:
    with pytest.raises(ValueError, match="declared twice"):

        class Again(Event):
            event_type: ClassVar[str] = "test_relay.pinged"
            aggregate_type: ClassVar[str] = "probe"

    with pytest.raises(ValueError, match="dotted lowercase"):

        class Bad(Event):
            event_type: ClassVar[str] = "Probe Pinged"
            aggregate_type: ClassVar[str] = "probe"


def test_events_are_frozen_and_validated() -> None:
    event = Pinged(n=1)
    with pytest.raises(ValidationError):
        event.n = 2  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Pinged(n="many")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Pinged(n=1, surprise=True)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("pattern", "event_type", "matches"),
    [
        ("*", "lead.created", True),
        ("lead.*", "lead.created", True),
        ("lead.*", "leads.created", False),
        ("lead.*", "lead", False),
        ("lead.created", "lead.created", True),
        ("lead.created", "lead.createdx", False),
        ("*.deleted", "campaign.deleted", True),
        ("webhook.*.failed", "webhook.endpoint.failed", True),
        ("l?ad.*", "lead.created", False),  # only * is special
        ("lead[.]*", "lead.created", False),
    ],
)
def test_event_matches_star_wildcards_only(pattern: str, event_type: str, matches: bool) -> None:
    assert event_matches(pattern, event_type) is matches


def test_retry_delays_double_and_cap_at_an_hour() -> None:
    assert [retry_delay_seconds(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert retry_delay_seconds(12) == 3600
    assert retry_delay_seconds(10_000) == 3600


# --- the outbox


async def test_an_event_recorded_in_a_rolled_back_transaction_leaves_nothing(
    db: DatabaseURLs, database: Database
) -> None:
    account = new_account(db)

    class Refused(Exception):
        pass

    with pytest.raises(Refused):
        async with unit_of_work(database.sessions, account_id=account) as session:
            await record(session, Pinged(n=1), account_id=account, aggregate_id="x")
            raise Refused
    assert sql(db, "SELECT count(*) FROM domain_events WHERE account_id = %s", account) == [(0,)]


async def test_record_writes_type_version_payload_and_metadata(
    db: DatabaseURLs, database: Database
) -> None:
    account = new_account(db)
    aggregate = uuid.uuid4()
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    event_id = await _record(
        database, account, Pinged(n=7, at=at), aggregate_id=aggregate,
        aggregate_version=4, metadata={"request_id": "r-1"},
    )  # fmt: skip
    row = _row(db, event_id)
    assert row["event_version"] == 3
    assert row["event_data"] == {"n": 7, "at": "2026-01-02T03:04:05Z"}
    assert row["metadata"] == {"request_id": "r-1"}
    assert row["aggregate_id"] == str(aggregate)
    assert row["processed"] is False


async def test_record_is_held_to_the_sessions_tenant(db: DatabaseURLs, database: Database) -> None:
    mine, theirs = new_account(db), new_account(db)
    with pytest.raises(Exception, match="row-level security"):
        async with unit_of_work(database.sessions, account_id=mine) as session:
            await record(session, Pinged(n=1), account_id=theirs, aggregate_id="x")


# --- the relay


async def test_a_committed_event_reaches_each_matching_handler_once_and_is_marked(
    db: DatabaseURLs, database: Database
) -> None:
    account = new_account(db)
    event_id = await _record(
        database, account, Pinged(n=5), aggregate_id=42, aggregate_version=2,
        metadata={"source": "test"},
    )  # fmt: skip
    await _drain(database)
    assert sorted(name for name, seen in CALLS if seen == event_id) == ["recorder", "second"]
    stored = RECEIVED[event_id]
    assert (stored.account_id, stored.event_type, stored.version) == (
        account, "test_relay.pinged", 3
    )  # fmt: skip
    assert (stored.aggregate_type, stored.aggregate_id, stored.aggregate_version) == (
        "probe", "42", 2
    )  # fmt: skip
    assert (stored.data, stored.metadata) == ({"n": 5, "at": None}, {"source": "test"})
    row = _row(db, event_id)
    assert row["processed"] is True and row["processed_at"] is not None
    assert row["attempts"] == 0
    # the handler's write committed with the mark, exactly once
    assert _follow_ups(db, event_id) == 1
    CALLS.clear()
    await _drain(database)
    assert CALLS == []


async def test_events_without_handlers_are_marked_processed(
    db: DatabaseURLs, database: Database
) -> None:
    account = new_account(db)
    event_id = await _record(database, account, FollowedUp(of=uuid.uuid4()))
    await _drain(database)
    assert _row(db, event_id)["processed"] is True


async def test_a_raising_handler_leaves_the_event_for_a_later_run_with_backoff(
    db: DatabaseURLs, database: Database
) -> None:
    account = new_account(db)
    failing = await _record(database, account, Pinged(n=1), aggregate_id="flaky")
    healthy = await _record(database, account, Pinged(n=2), aggregate_id="fine")
    FAILING.add("flaky")
    before = dt.datetime.now(dt.UTC)
    await _drain(database)
    row = _row(db, failing)
    assert row["processed"] is False
    assert row["attempts"] == 1
    assert "tests.events.recorder: RuntimeError: receiver unavailable" in row["last_error"]
    delay = (row["next_attempt_at"] - before).total_seconds()
    assert retry_delay_seconds(1) <= delay < retry_delay_seconds(1) + 5
    # the failing event's handler writes were rolled back; the other event went on
    assert _follow_ups(db, failing) == 0
    assert _row(db, healthy)["processed"] is True and _follow_ups(db, healthy) == 1

    # not due yet: a run right away leaves it alone
    CALLS.clear()
    await _drain(database)
    assert CALLS == []

    # due again (as if the wait had passed): fails once more, the wait doubles
    sql(db, "UPDATE domain_events SET next_attempt_at = now() WHERE id = %s", failing)
    await _drain(database)
    row = _row(db, failing)
    assert (row["processed"], row["attempts"]) == (False, 2)
    assert (row["next_attempt_at"] - dt.datetime.now(dt.UTC)).total_seconds() > 2

    # the receiver is back: the next run succeeds
    FAILING.clear()
    sql(db, "UPDATE domain_events SET next_attempt_at = now() WHERE id = %s", failing)
    await _drain(database)
    row = _row(db, failing)
    assert row["processed"] is True and row["attempts"] == 2
    assert _follow_ups(db, failing) == 1


async def test_two_relays_in_parallel_never_handle_the_same_event(
    db: DatabaseURLs, database: Database
) -> None:
    account = new_account(db)
    events = 120
    async with unit_of_work(database.sessions, account_id=account) as session:
        ids = [
            await record(session, Pinged(n=i), account_id=account, aggregate_id=i)
            for i in range(events)
        ]
    SLOW["seconds"] = 0.001  # handlers yield, so the two relays interleave

    async def relay() -> int:
        handled = 0
        while (report := await relay_batch(database.sessions, batch_size=7)).claimed:
            handled += report.processed
        return handled

    first, other = await asyncio.gather(relay(), relay())
    assert first > 0 and other > 0, "both relays must have taken part"
    recorded = [seen for name, seen in CALLS if name == "recorder"]
    assert sorted(recorded) == sorted(ids)  # each event exactly once
    for event_id in ids[:10]:
        assert _follow_ups(db, event_id) == 1


async def test_handlers_run_under_their_events_account_only(
    db: DatabaseURLs, database: Database
) -> None:
    first, second_account = new_account(db), new_account(db)
    mine = await _record(database, first, Looked())
    theirs = await _record(database, second_account, Looked())
    await _drain(database)
    assert SEEN_ACCOUNTS[mine] == (first, [first])
    assert SEEN_ACCOUNTS[theirs] == (second_account, [second_account])


async def test_change_capture_events_flow_through_the_relay(
    db: DatabaseURLs, database: Database
) -> None:
    account = new_account(db)
    seen: list[tuple[str, str]] = []

    @event_handler("tests.events.campaigns", "campaign.*")
    async def campaigns(session: AsyncSession, event: StoredEvent) -> None:
        seen.append((event.event_type, event.data["after"]["name"]))

    async with unit_of_work(database.sessions, account_id=account) as session:
        await session.execute(
            text("INSERT INTO campaigns (account_id, name) VALUES (:a, 'Spring')"), {"a": account}
        )
    await _drain(database)
    assert ("campaign.created", "Spring") in seen
    unprocessed = sql(
        db, "SELECT count(*) FROM domain_events WHERE account_id = %s AND NOT processed", account
    )
    assert unprocessed == [(0,)]


async def test_a_handler_overrunning_its_time_fails_its_event(
    db: DatabaseURLs, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay, "HANDLER_TIMEOUT_SECONDS", 0.2)
    account = new_account(db)
    stalled = await _record(database, account, Stalled())
    fine = await _record(database, account, Pinged(n=1))
    started = asyncio.get_running_loop().time()
    await _drain(database)
    assert asyncio.get_running_loop().time() - started < 3
    row = _row(db, stalled)
    assert (row["processed"], row["attempts"]) == (False, 1)
    assert "tests.events.staller: TimeoutError" in row["last_error"]
    assert _row(db, fine)["processed"] is True
