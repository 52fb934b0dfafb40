"""An exclusive lock on one data directory, between processes and between threads.

The embedded server's wheel serialises starting, attaching to and stopping a server with
one lock file in the user's runtime directory, or in the shared temp directory when the
user has none (``su``, containers, CI users): there, the first OS user to create
``/tmp/.lockfile`` keeps every other one out. This lock lives in the data directory it
protects, so it is ours and is only shared by the processes using that directory.
"""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

LOCK_NAME = ".server.lock"

_locks: dict[Path, DataDirLock] = {}
_registry = threading.Lock()


class DataDirLock:
    """``with lock:`` holds ``flock`` on the lock file; re-entered by its holder freely (the
    wheel takes its lock inside itself), released when the outermost ``with`` ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held = threading.RLock()
        self._depth = 0
        self._file: IO[str] | None = None

    def __enter__(self) -> DataDirLock:
        self._held.acquire()
        try:
            if self._depth == 0:
                file = self.path.open("a")
                try:
                    fcntl.flock(file, fcntl.LOCK_EX)
                except BaseException:
                    file.close()
                    raise
                self._file = file
            self._depth += 1
        except BaseException:
            self._held.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0 and self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self._held.release()


def data_dir_lock(data_dir: Path) -> DataDirLock:
    """The lock of ``data_dir`` (one object per directory and process: two ``flock``s of one
    file by one process would wait for each other)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key = data_dir.resolve()
    with _registry:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = DataDirLock(key / LOCK_NAME)
        return lock
