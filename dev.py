#!/usr/bin/env python3
"""Everything a developer runs, from a machine with Python 3.11+ and nothing else.

    python3 dev.py serve [--port 8000]   run the API on the embedded PostgreSQL
    python3 dev.py test [pytest args]    run the whole test suite
    python3 dev.py check                 ruff, mypy and the import-layer contracts
    python3 dev.py run CMD [ARGS]        any command inside the project environment
                                         (e.g. `python3 dev.py run markettina db status`)

On first use it installs uv (into .tools/) and the locked dependencies (into .venv/).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

UV_VERSION = "0.13.8"
ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
VENV = ROOT / ".venv"
BIN = "Scripts" if os.name == "nt" else "bin"


def say(message: str) -> None:
    print(f"[dev] {message}", file=sys.stderr, flush=True)


def uv() -> str:
    local = TOOLS / BIN / "uv"
    if local.exists():
        return str(local)
    found = shutil.which("uv")
    if found:
        return found
    say(f"installing uv {UV_VERSION} into {TOOLS} (first run only)")
    subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
    subprocess.run(
        [str(TOOLS / BIN / "python"), "-m", "pip", "install", "-qq", f"uv=={UV_VERSION}"],
        check=True,
    )
    return str(local)


def sync_environment() -> None:
    env = {**os.environ, "UV_PYTHON": sys.executable, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run(
        [uv(), "sync", "--frozen", "--quiet", "--project", str(ROOT)], check=True, env=env
    )


def compile_bytecode() -> None:
    """Compiled modules for the dependencies (once per lock) and the project's sources.

    Python reads a module's compiled form from ``__pycache__`` but, with
    PYTHONDONTWRITEBYTECODE set (as on the shared development machine), never writes one,
    and uv installs none: every process compiled some 1,200 modules from source on every
    start (1.7 s of CPU of the 2.8 s that importing the app took). A stale or missing file
    is only a slower start: Python checks each against its source."""
    python = str(VENV / BIN / "python")
    marker = VENV / ".compiled-lock"
    lock = hashlib.sha256((ROOT / "uv.lock").read_bytes()).hexdigest()
    if not marker.exists() or marker.read_text() != lock:
        say("compiling the dependencies' modules (once per lock)")
        code = (
            "import compileall, sysconfig; "
            "compileall.compile_dir(sysconfig.get_path('purelib'), quiet=2, workers=0)"
        )
        subprocess.run([python, "-c", code], check=True, stdout=subprocess.DEVNULL)
        marker.write_text(lock)
    # the sources: quick when nothing changed
    for folder in ("src", "migrations"):
        subprocess.run(
            [python, "-m", "compileall", "-q", "-q", str(ROOT / folder)],
            check=False, stdout=subprocess.DEVNULL,
        )  # fmt: skip


def exec_in_venv(program: str, *args: str) -> None:
    path = VENV / BIN / program
    executable = str(path) if path.exists() else program
    os.environ["PATH"] = f"{VENV / BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["VIRTUAL_ENV"] = str(VENV)
    os.chdir(ROOT)
    os.execvp(executable, [executable, *args])  # noqa: S606 - replaces this process


def check() -> int:
    for command in (
        ["ruff", "check", "src", "tests", "migrations", "bench", "dev.py"],
        ["ruff", "format", "--check", "src", "tests", "migrations", "bench", "dev.py"],
        ["mypy"],
        ["lint-imports"],
    ):
        say(" ".join(command))
        result = subprocess.run([str(VENV / BIN / command[0]), *command[1:]], cwd=ROOT)
        if result.returncode != 0:
            return result.returncode
    return 0


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by any python3
        say("Python 3.11 or newer is needed")
        return 2
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in {"serve", "test", "check", "run"}:
        say(f"unknown command {command!r}; see `python3 dev.py --help`")
        return 2
    sync_environment()
    compile_bytecode()
    if command == "serve":
        exec_in_venv("markettina", "serve", *rest)
    if command == "test":
        exec_in_venv("python", "-m", "pytest", *rest)
    if command == "check":
        return check()
    if not rest:
        say("usage: python3 dev.py run CMD [ARGS]")
        return 2
    exec_in_venv(*rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
