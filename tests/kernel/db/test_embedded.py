"""The embedded server's handle list: processes killed with SIGKILL leave stale pids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from markettina.kernel.db import embedded
from markettina.kernel.db.data_dir_lock import data_dir_lock


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


class TestDataDirLock:
    def test_held_by_one_process_at_a_time_reentered_by_its_holder(self, tmp_path: Path) -> None:
        lock = data_dir_lock(tmp_path / "data")
        assert data_dir_lock(tmp_path / "data") is lock
        probe = (
            "import fcntl, sys\n"
            "with open(sys.argv[1], 'a') as f:\n"
            "    try:\n"
            "        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
            "    except BlockingIOError:\n"
            "        sys.exit(3)\n"
        )

        def other_process_gets_it() -> bool:
            tried = subprocess.run([sys.executable, "-c", probe, str(lock.path)], check=False)
            return tried.returncode == 0

        with lock:
            with lock:  # the wheel takes it again inside start()
                assert not other_process_gets_it()
            assert not other_process_gets_it()
        assert other_process_gets_it()


def test_starts_when_another_user_holds_the_shared_temp_lock_file(tmp_path: Path) -> None:
    """Without a runtime directory the wheel locks ``$TMPDIR/.lockfile``; one this user
    cannot open (a directory stands in for another user's file: root opens any file) must
    not keep the embedded server from starting, nor from stopping with its last process."""
    temp, data_dir = tmp_path / "tmp", tmp_path / "data"
    (temp / ".lockfile").mkdir(parents=True)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from markettina.kernel.db import embedded\n"
        "print(embedded.start(Path(sys.argv[1])).render_as_string())\n"
    )
    env = {**os.environ, "TMPDIR": str(temp), "XDG_RUNTIME_DIR": str(tmp_path / "none")}
    try:
        started = subprocess.run(
            [sys.executable, "-c", script, str(data_dir)],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        assert "postgresql" in started.stdout
        assert embedded.status(data_dir).initialized
        assert not embedded.status(data_dir).running  # its only process stopped it on exit
    finally:
        embedded.stop(data_dir)
