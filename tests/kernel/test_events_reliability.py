"""The relay survives its worker being killed: after a SIGKILL mid-relay and a restart,
every event is processed and every handler effect is there (the database one exactly
once, since it commits with the event's mark)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import sql
from tests.support.identity import new_account
from tests.support.processes import markettina_env, spawn, stop

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
EVENTS = 450


def _worker(urls: DatabaseURLs, log: Path, probe_log: Path) -> subprocess.Popen[bytes]:
    url = urls.admin.set(drivername="postgresql").render_as_string(hide_password=False)
    env = markettina_env(
        MARKETTINA_DATABASE_URL=url,
        MARKETTINA_EXTRA_TASK_MODULES=json.dumps(["tests.kernel.events_probe"]),
        MARKETTINA_LOG_LEVEL="warning",
        EVENTS_PROBE_LOG=str(probe_log),
        EVENTS_PROBE_DELAY="0.005",
        PYTHONPATH=str(REPO),
    )
    return spawn(["worker", "--concurrency", "3"], env, log)


def _processed(urls: DatabaseURLs) -> int:
    rows = sql(urls, "SELECT count(*) FROM domain_events WHERE event_type = 'probe.sent' "
                     "AND processed")  # fmt: skip
    return int(rows[0][0])


def _wait_for(urls: DatabaseURLs, worker: subprocess.Popen[bytes], log: Path, at_least: int,
              timeout: float) -> int:  # fmt: skip
    deadline = time.monotonic() + timeout
    while (done := _processed(urls)) < at_least:
        assert worker.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{done} of {at_least} processed\n{log.read_text()}"
        time.sleep(0.05)
    return done


def test_events_survive_a_worker_killed_mid_relay(fresh_db: DatabaseURLs, tmp_path: Path) -> None:
    accounts = [new_account(fresh_db) for _ in range(3)]
    for account in accounts:
        sql(
            fresh_db,
            "INSERT INTO domain_events (account_id, aggregate_type, aggregate_id,"
            " aggregate_version, event_type, event_data)"
            " SELECT %s, 'probe', n::text, 0, 'probe.sent', jsonb_build_object('n', n)"
            " FROM generate_series(1, %s) AS n",
            account, EVENTS // len(accounts),
        )  # fmt: skip
    log, probe_log = tmp_path / "worker.log", tmp_path / "probe.log"

    first = _worker(fresh_db, log, probe_log)
    try:
        done_before_kill = _wait_for(fresh_db, first, log, at_least=60, timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert done_before_kill < EVENTS, "the worker finished before it could be killed"
    # the killed batch was rolled back: its events are still to do
    assert _processed(fresh_db) < EVENTS

    second = _worker(fresh_db, log, probe_log)
    try:
        _wait_for(fresh_db, second, log, at_least=EVENTS, timeout=90)
    finally:
        assert stop(second, signal.SIGTERM) == 0, log.read_text()

    sent = {row[0] for row in sql(fresh_db, "SELECT id FROM domain_events "
                                            "WHERE event_type = 'probe.sent'")}  # fmt: skip
    assert len(sent) == EVENTS
    # the database effect: exactly one answer per event (it commits with the mark)
    answers = sql(
        fresh_db,
        "SELECT aggregate_id, count(*) FROM domain_events WHERE event_type = 'probe.handled' "
        "GROUP BY aggregate_id",
    )
    assert {uuid.UUID(aggregate) for aggregate, _ in answers} == sent
    assert {count for _, count in answers} == {1}
    # the outside effect: at least once each
    lines = probe_log.read_text().split()
    assert {uuid.UUID(line) for line in lines} >= sent
    unprocessed = sql(fresh_db, "SELECT count(*) FROM domain_events WHERE NOT processed "
                                "AND event_type = 'probe.sent'")  # fmt: skip
    assert unprocessed == [(0,)]
