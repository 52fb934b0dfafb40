"""The embedded server's handle list: processes killed with SIGKILL leave stale pids."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from markettina.kernel.db import embedded


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


class TestStaleHandles:
    def test_dead_processes_are_pruned_live_ones_kept(self, tmp_path: Path) -> None:
        pgdata = tmp_path / "pgdata"
        pgdata.mkdir()
        dead = _dead_pid()
        (pgdata / embedded.HANDLES_FILE).write_text(json.dumps([dead, 1]))
        assert embedded.prune_stale_handles(pgdata) == [dead]
        assert json.loads((pgdata / embedded.HANDLES_FILE).read_text()) == [1]

    def test_missing_or_garbled_list_is_harmless(self, tmp_path: Path) -> None:
        assert embedded.prune_stale_handles(tmp_path) == []
        (tmp_path / embedded.HANDLES_FILE).write_text("{not json")
        assert embedded.prune_stale_handles(tmp_path) == []


class TestStatus:
    def test_uninitialized_data_dir(self, tmp_path: Path) -> None:
        state = embedded.status(tmp_path)
        assert not state.initialized and not state.running
        assert state.pid is None and state.postgres_version is None
