"""Ending a pooled connection from the server's side, as a restart or an administrator does."""

from __future__ import annotations

import time

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs


def end_backend(urls: DatabaseURLs, pid: int) -> None:
    """``pg_terminate_backend``, returning once the backend is gone (its FATAL sent)."""
    with bootstrap.connect(urls.admin) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(100):
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
            if row.fetchone() == (0,):
                return
            time.sleep(0.02)
    raise AssertionError(f"backend {pid} did not end")
