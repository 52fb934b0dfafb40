"""The application-role database of a worker process: jobs that touch tenant data open
their unit of work on it, like a request does. The worker binds it at start."""

from __future__ import annotations

from .engine import Database

_bound: Database | None = None


def bind_job_database(database: Database | None) -> None:
    global _bound
    _bound = database


def job_database() -> Database:
    if _bound is None:
        raise RuntimeError("this process bound no job database (the worker does at start)")
    return _bound
