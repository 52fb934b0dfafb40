"""Time from launching ``markettina serve`` to its first ``/readyz`` 200, on the embedded
server (its own data directory, so its start is part of the figure, as on a developer's
machine). A first run creates the server and migrates; it is not counted. Each measured
run is stopped with SIGKILL, as a crash would, and the next one starts after it.

With ``--before REV`` the same runs are made, alternately, with the ``src/`` and
``migrations/`` of git revision REV (in its own data directory): both figures come from
one run on one machine under the same load. With ``--before-without-bytecode`` that
variant reads no compiled modules (``PYTHONPYCACHEPREFIX`` on an empty folder), as in an
environment made before ``dev.py`` compiled them, on a machine that sets
PYTHONDONTWRITEBYTECODE. Prints one JSON line (seconds), with the machine's load.

    python3 dev.py run python bench/startup.py [--runs 5] [--before REV]
        [--before-without-bytecode]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 180.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _cpu_seconds(pid: int) -> float:
    """CPU time of the process (its threads, and the children it waited for, as pg_ctl)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def _serve_once(src: Path, data_dir: Path, extra: dict[str, str]) -> tuple[float, float]:
    """Seconds from launch to ready, and the CPU seconds serve spent until then (a figure
    the load of a shared machine changes less); the process is then killed."""
    port = _free_port()
    env = {
        **os.environ,
        **extra,
        "PYTHONPATH": str(src),
        "MARKETTINA_DATA_DIR": str(data_dir),
        "MARKETTINA_PORT": str(port),
        "MARKETTINA_LOG_LEVEL": "warning",
    }
    env.pop("MARKETTINA_DATABASE_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "markettina", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not _ready(port):
            if process.poll() is not None:
                raise RuntimeError(f"serve exited with {process.returncode} before ready")
            if time.perf_counter() - started > TIMEOUT:
                raise RuntimeError("serve was not ready in time")
            time.sleep(0.05)
        return time.perf_counter() - started, _cpu_seconds(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # serve and the embedded server
        process.wait()


def _import_seconds(src: Path, extra: dict[str, str]) -> float:
    """Seconds to import the app module in a fresh interpreter."""
    code = (
        "import time; t = time.perf_counter(); import markettina.app; "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **extra, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def _stop_server(src: Path, data_dir: Path) -> None:
    """The embedded server of a data directory, if a killed run left it running."""
    subprocess.run(
        [sys.executable, "-m", "markettina", "db", "stop"],
        env={**os.environ, "PYTHONPATH": str(src), "MARKETTINA_DATA_DIR": str(data_dir)},
        capture_output=True,
        check=False,
    )


def _export(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src", "migrations"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", help="git revision to compare with (its src/)")
    parser.add_argument(
        "--before-without-bytecode", action="store_true",
        help="run the before variant reading no compiled modules",
    )  # fmt: skip
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="markettina-startup-") as tmp:
        variants = {"after": ROOT / "src"}
        if args.before:
            variants = {"before": _export(args.before, Path(tmp)), **variants}
        data_dirs = {name: Path(tmp) / f"data-{name}" for name in variants}
        extra: dict[str, dict[str, str]] = {name: {} for name in variants}
        if args.before and args.before_without_bytecode:
            (Path(tmp) / "no-bytecode").mkdir()
            extra["before"] = {"PYTHONPYCACHEPREFIX": str(Path(tmp) / "no-bytecode")}
        ready: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        imports: dict[str, list[float]] = {name: [] for name in variants}
        try:
            for name, src in variants.items():  # creates the server and migrates: not counted
                _serve_once(src, data_dirs[name], extra[name])
            for _ in range(args.runs):
                for name, src in variants.items():
                    seconds, cpu_seconds = _serve_once(src, data_dirs[name], extra[name])
                    ready[name].append(seconds)
                    cpu[name].append(cpu_seconds)
                    imports[name].append(_import_seconds(src, extra[name]))
        finally:
            for name, src in variants.items():
                _stop_server(src, data_dirs[name])
    result: dict[str, object] = {
        "bench": "startup",
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "load_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # at start, at end
        "before_without_bytecode": bool(args.before and args.before_without_bytecode),
    }
    for name in variants:
        result[name] = {
            "ready_s": _summary(ready[name]),
            "ready_cpu_s": _summary(cpu[name]),
            "import_app_s": _summary(imports[name]),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
