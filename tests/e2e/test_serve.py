"""`markettina serve` as a user runs it: ready quickly, and back after a SIGKILL."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from markettina.kernel.db import embedded
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.processes import free_port, markettina_env, spawn, stop, wait_ready

pytestmark = pytest.mark.e2e


def _admin_url(urls: DatabaseURLs) -> str:
    return urls.admin.set(drivername="postgresql").render_as_string(hide_password=False)


def child_pids(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_external_server_survives_sigkill(fresh_db: DatabaseURLs, tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    env = markettina_env(
        MARKETTINA_DATABASE_URL=_admin_url(fresh_db), MARKETTINA_DATA_DIR=str(tmp_path / "data")
    )
    first = spawn(["serve", "--port", str(port)], env, log)
    try:
        wait_ready(port, first, 60, log)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
    finally:
        stop(first, signal.SIGKILL)
    again = spawn(["serve", "--port", str(port)], env, log)
    try:
        wait_ready(port, again, 30, log)
    finally:
        assert stop(again) == 128 + signal.SIGTERM


def test_embedded_server_first_run_sigkill_and_clean_stop(tmp_path: Path) -> None:
    data_dir, port, log = tmp_path / "data", free_port(), tmp_path / "serve.log"
    env = markettina_env(MARKETTINA_DATA_DIR=str(data_dir))
    try:
        first = spawn(["serve", "--port", str(port)], env, log)
        try:
            wait_ready(port, first, 90, log)
        finally:
            stop(first, signal.SIGKILL)
        # the killed process left its handle behind and the database running
        assert first.pid in embedded.status(data_dir).handles
        assert embedded.status(data_dir).running

        # again, as one API process per core: the children reach the server the parent holds
        again = spawn(["serve", "--port", str(port), "--workers", "2"], env, log)
        try:
            wait_ready(port, again, 60, log)
            state = embedded.status(data_dir)
            assert first.pid not in state.handles and again.pid in state.handles
            assert len(child_pids(again.pid)) >= 2
            assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        finally:
            stop(again)
        # the last process to leave stops the embedded server
        state = embedded.status(data_dir)
        assert not state.running and state.handles == []
        assert f"data in {data_dir / 'pgdata'}" in log.read_text()
    finally:
        embedded.stop(data_dir)
