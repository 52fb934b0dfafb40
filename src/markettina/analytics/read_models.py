"""The read models (materialized views, revision 0005): refreshing them and their freshness.

The views hold every account's rows, so they are refreshed by the schema owner only, through
the database functions ``refresh_read_models()`` (all six) and ``refresh_read_model(name)``
(one), which never let two refreshes overlap: a refresh that finds another one running
returns no rows instead of waiting. The app reads the tenant-filtered ``v_*`` views and
``read_model_refreshes``, so a response built on a view can say how fresh its data is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# in refresh order
VIEWS: tuple[str, ...] = (
    "mv_dashboard_kpis",
    "mv_social_performance",
    "mv_lead_funnel",
    "mv_content_performance",
    "mv_ai_usage",
    "mv_competitor_comparison",
)

# what the app reads instead of each materialized view (filtered on the acting tenant)
TENANT_VIEWS: dict[str, str] = {name: "v_" + name.removeprefix("mv_") for name in VIEWS}

# the advisory lock the refresh functions take (the same number as in revision 0005)
REFRESH_LOCK_KEY = 4_820_806_937_487_451_612

_COLUMNS = "view_name, refreshed_at, duration_ms, rows"


@dataclass(frozen=True)
class Refresh:
    """One view's refresh: when it started, how long it took, how many rows it holds."""

    view_name: str
    refreshed_at: dt.datetime
    duration_ms: int
    rows: int


def _as_refresh(row: tuple[Any, ...]) -> Refresh:
    view_name, refreshed_at, duration_ms, rows = row
    return Refresh(str(view_name), refreshed_at, int(duration_ms), int(rows))


def refresh_read_models(conn: psycopg.Connection[Any]) -> list[Refresh]:
    """Refresh all six views in one transaction on ``conn`` (an owner connection).

    Returns one ``Refresh`` per view, or ``[]`` when another refresh is running.
    """
    with conn.transaction():
        rows = conn.execute(f"SELECT {_COLUMNS} FROM refresh_read_models()").fetchall()
    return [_as_refresh(row) for row in rows]


def iter_refresh_read_models(conn: psycopg.Connection[Any]) -> Iterator[Refresh]:
    """The same, one view at a time (for progress reports), still in one transaction under
    one lock: yields each view's ``Refresh`` as it completes, nothing when another refresh
    is running. The transaction commits once the last view is done."""
    with conn.transaction():
        for name in VIEWS:
            row = conn.execute(f"SELECT {_COLUMNS} FROM refresh_read_model(%s)", (name,)).fetchone()
            if row is None:  # the lock is another refresh's (only possible for the first)
                return
            yield _as_refresh(row)


async def refresh_read_models_async(conn: psycopg.AsyncConnection[Any]) -> list[Refresh]:
    """``refresh_read_models`` for async callers (the periodic job)."""
    async with conn.transaction():
        cursor = await conn.execute(f"SELECT {_COLUMNS} FROM refresh_read_models()")
        rows = await cursor.fetchall()
    return [_as_refresh(row) for row in rows]


async def read_model_freshness(session: AsyncSession) -> dict[str, dt.datetime | None]:
    """When each view was last refreshed (``None``: never), readable by the app role."""
    result = await session.execute(text("SELECT view_name, refreshed_at FROM read_model_refreshes"))
    refreshed = {str(name): at for name, at in result.all()}
    return {name: refreshed.get(name) for name in VIEWS}


__all__ = [
    "REFRESH_LOCK_KEY",
    "TENANT_VIEWS",
    "VIEWS",
    "Refresh",
    "iter_refresh_read_models",
    "read_model_freshness",
    "refresh_read_models",
    "refresh_read_models_async",
]
