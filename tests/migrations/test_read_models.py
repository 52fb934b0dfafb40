"""Revision 0005: the six read models hold, for every account, exactly what a plain query
over that account's own rows gives; the app reads them only through the tenant-filtered
``v_*`` views; refreshes never overlap and record when they ran.

The expected figures are computed in Python from the base rows each account sees as
markettina_app under row-level security, not from SQL shaped like the views'.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from markettina.analytics.read_models import (
    REFRESH_LOCK_KEY,
    TENANT_VIEWS,
    VIEWS,
    Refresh,
    iter_refresh_read_models,
    read_model_freshness,
    refresh_read_models,
)
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.databases import SuiteDatabases

pytestmark = pytest.mark.migrations

UTC = dt.UTC
STATUSES = ("NEW", "CONTACTED", "QUALIFIED", "PROPOSAL_SENT", "NEGOTIATION", "WON", "LOST")
PLATFORMS = ("instagram", "linkedin", "facebook")
AI_MODELS = (("openai", "gpt-4o"), ("anthropic", "claude"), ("template", "t1"))
KEYS = {
    "mv_dashboard_kpis": ("account_id",),
    "mv_social_performance": ("account_id", "platform", "day"),
    "mv_lead_funnel": ("account_id", "week", "source"),
    "mv_content_performance": ("account_id", "post_id"),
    "mv_ai_usage": ("account_id", "day", "content_type", "ai_provider", "ai_model"),
    "mv_competitor_comparison": ("account_id", "competitor_id", "platform"),
}
# days ago, each well inside or outside the 30-day, 90-day and one-year windows
RECENT = (0, 2, 5, 13, 27)
MONTHS = (40, 61, 84)
OLD = (97, 130, 370, 500)


# --- the data set -------------------------------------------------------------------------


def _ago(now: dt.datetime, days: int, hour: int | None = None) -> dt.datetime:
    """``days`` ago, at ``hour`` UTC of that calendar day (else at the current time)."""
    moment = now - dt.timedelta(days=days)
    if hour is None:
        return moment
    return dt.datetime.combine(moment.date(), dt.time(hour), tzinfo=UTC)


class Seeder:
    """Writes one account's rows as the owner (who bypasses row-level security)."""

    def __init__(self, conn: psycopg.Connection[Any], now: dt.datetime, seed: int) -> None:
        self.conn = conn
        self.now = now
        self.rng = random.Random(seed)

    def one(self, sql: str, params: Iterable[Any]) -> Any:
        row = self.conn.execute(sql, tuple(params)).fetchone()
        assert row is not None
        return row[0]

    def account(self, *, deleted: bool = False) -> uuid.UUID:
        slug = f"rm-{uuid.uuid4().hex[:10]}"
        return self.one(
            "INSERT INTO accounts (name, slug, deleted_at) VALUES (%s, %s, %s) RETURNING id",
            (slug, slug, self.now if deleted else None),
        )

    def fill(self, account: uuid.UUID, size: int) -> None:
        rng, now = self.rng, self.now
        user = self.one(
            "INSERT INTO users (email) VALUES (%s) RETURNING id", (f"{uuid.uuid4().hex}@rm.test",)
        )
        # leads: every status, several sources (and none), several weeks, some deleted or old
        for i in range(6 * size):
            created = _ago(now, rng.choice(RECENT + MONTHS + OLD[:2] + (200, 300, *OLD[2:])))
            created -= dt.timedelta(hours=rng.randrange(0, 20))
            self.conn.execute(
                "INSERT INTO leads (account_id, name, source, status, score, created_at,"
                " updated_at, deleted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    account, f"lead {i}", rng.choice(("web", "ads", "referral", None, "")),
                    STATUSES[i % len(STATUSES)], rng.randrange(0, 101), created,
                    created + dt.timedelta(hours=rng.randrange(0, 48)),
                    now if i % 9 == 4 else None,
                ),
            )  # fmt: skip
        campaigns = []
        for i in range(2 + size):
            created = _ago(now, rng.choice(RECENT + MONTHS))
            campaigns.append(
                self.one(
                    "INSERT INTO campaigns (account_id, name, status, created_at, updated_at,"
                    " deleted_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                    (
                        account, f"campaign {i}",
                        ("active", "planning", "active", "paused", "completed")[i % 5],
                        created, created + dt.timedelta(days=1), now if i == 3 else None,
                    ),
                )
            )  # fmt: skip
        posts = []
        for i in range(4 + 2 * size):
            published = i % 3 != 2
            days = rng.choice(RECENT + MONTHS + OLD[:2])
            created = _ago(now, days + 1)
            posts.append(
                self.one(
                    "INSERT INTO scheduled_posts (account_id, user_id, content, platforms, status,"
                    " published_at, campaign_id, created_at, updated_at, deleted_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (
                        account, user, f"post {i}", list(PLATFORMS[: 1 + i % 3]),
                        "published" if published else "scheduled",
                        _ago(now, days) if published else None,
                        campaigns[i % len(campaigns)], created,
                        created + dt.timedelta(hours=3), now if i == 5 else None,
                    ),
                )
            )  # fmt: skip
        # several measurements per post and platform: some on one day, some on other days
        for post in posts:
            for platform in rng.sample(PLATFORMS, 2):
                for days in rng.sample(RECENT + MONTHS + OLD[:2], 3):
                    for hour in rng.sample(range(1, 23), rng.choice((1, 2, 3))):
                        self._measurement(account, post, platform, _ago(now, days, hour))
            for _ in range(rng.randrange(0, 5)):
                score = Decimal(rng.randrange(-1000, 1001)) / 1000
                label = rng.choice(("positive", "neutral", "negative", "mixed"))
                self.conn.execute(
                    "INSERT INTO sentiment_analysis (account_id, post_id, platform,"
                    " sentiment_score, sentiment_label, confidence)"
                    " VALUES (%s, %s, %s, %s, %s, 0.9)",
                    (account, post, rng.choice(PLATFORMS), score, label),
                )
        # the ledger: a purchase first, so the balance never goes below zero
        wallet = self.one(
            "INSERT INTO token_wallets (account_id, user_id) VALUES (%s, %s) RETURNING id",
            (account, user),
        )
        balance = 0
        entries = [("purchase", 5000, _ago(now, 600))]
        entries += [("usage", -rng.randrange(1, 200), _ago(now, d)) for d in RECENT + MONTHS]
        entries += [("bonus", 50, _ago(now, 3)), ("refund", -10, _ago(now, 1))]
        for kind, amount, at in entries:
            balance += amount
            self.conn.execute(
                "INSERT INTO token_transactions (account_id, wallet_id, type, amount,"
                " balance_after, created_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (account, wallet, kind, amount, balance, at),
            )
        for i in range(5 * size):
            used = rng.random() < 0.5
            self.conn.execute(
                "INSERT INTO content_generations (account_id, content_type, prompt,"
                " generated_content, ai_provider, ai_model, total_tokens, quality_score,"
                " was_used, created_at) VALUES (%s, %s, 'p', 'g', %s, %s, %s, %s, %s, %s)",
                (
                    account, rng.choice(("social_caption", "blog_post")),
                    *rng.choice(AI_MODELS),
                    rng.randrange(0, 2000),
                    None if i % 4 == 0 else Decimal(rng.randrange(0, 10001)) / 100,
                    used, _ago(now, rng.choice((0, 1, 2)), rng.randrange(0, 24)),
                ),
            )  # fmt: skip
        for i in range(1 + size):
            competitor = self.one(
                "INSERT INTO competitor_profiles (account_id, name, deleted_at)"
                " VALUES (%s, %s, %s) RETURNING id",
                (account, f"rival {i}", now if i == 2 else None),
            )
            for platform in PLATFORMS[: 1 + i % 3]:
                for days in (1, 8, 30):
                    theirs = 0 if (i, days) == (1, 1) else rng.randrange(100, 100_000)
                    self.conn.execute(
                        "INSERT INTO competitor_metrics (account_id, competitor_id, platform,"
                        " followers_count, our_followers_count, avg_engagement_rate,"
                        " our_avg_engagement_rate, posting_frequency, our_posting_frequency,"
                        " measured_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 3.5, 2.0, %s)",
                        (
                            account, competitor, platform, theirs,
                            None if (i, days) == (0, 1) else rng.randrange(0, 50_000),
                            Decimal(rng.randrange(1, 900)) / 10000,
                            None if (i, days) == (1, 1) else Decimal(rng.randrange(0, 900)) / 10000,
                            _ago(now, days),
                        ),
                    )  # fmt: skip

    def _measurement(self, account: uuid.UUID, post: int, platform: str, at: dt.datetime) -> None:
        rng = self.rng
        self.conn.execute(
            "INSERT INTO social_metrics (account_id, post_id, platform, impressions, reach,"
            " engagement_count, likes, comments, shares, clicks, engagement_rate,"
            " click_through_rate, measured_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                account, post, platform, rng.randrange(0, 10_000), rng.randrange(0, 5_000),
                rng.randrange(0, 900), rng.randrange(0, 500), rng.randrange(0, 100),
                rng.randrange(0, 50), rng.randrange(0, 300),
                None if rng.random() < 0.2 else Decimal(rng.randrange(0, 200_000)) / 1_000_000,
                Decimal(rng.randrange(0, 50_000)) / 1_000_000, at,
            ),
        )  # fmt: skip


@dataclass(frozen=True)
class Seeded:
    urls: DatabaseURLs
    accounts: tuple[uuid.UUID, ...]  # live accounts: three with data, one without
    deleted_account: uuid.UUID


@pytest.fixture(scope="module")
def seeded(databases: SuiteDatabases, template_db: DatabaseURLs) -> Iterator[Seeded]:
    """One database for the module: three busy accounts, an empty one and a deleted one."""
    with databases.fresh(template_db) as urls:
        with bootstrap.connect(urls.owner) as conn:
            seeder = Seeder(conn, dt.datetime.now(UTC), seed=5)
            busy = tuple(seeder.account() for _ in range(3))
            for size, account in enumerate(busy, start=1):
                seeder.fill(account, size)
            empty, deleted = seeder.account(), seeder.account(deleted=True)
            assert len(refresh_read_models(conn)) == len(VIEWS)
        yield Seeded(urls, (*busy, empty), deleted)


# --- what each account's rows say, computed in Python ------------------------------------


def _base_rows(urls: DatabaseURLs, account: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """The account's rows of every source table, read as markettina_app for that tenant."""
    tables = (
        "leads", "scheduled_posts", "campaigns", "token_transactions", "social_metrics",
        "sentiment_analysis", "content_generations", "competitor_profiles", "competitor_metrics",
    )  # fmt: skip
    with bootstrap.connect(urls.app, autocommit=False) as conn:
        conn.execute("SELECT set_config('app.current_account_id', %s, true)", (str(account),))
        with conn.cursor(row_factory=dict_row) as cur:
            rows = {table: cur.execute(f"SELECT * FROM {table}").fetchall() for table in tables}
        conn.rollback()
    for table_rows in rows.values():
        assert all(row["account_id"] == account for row in table_rows)
    return rows


def _mean(values: Iterable[Any]) -> Decimal | None:
    present = [Decimal(v) for v in values if v is not None]
    return sum(present, Decimal(0)) / len(present) if present else None


def _live(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row["deleted_at"] is None]


def _utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(UTC).date()


def expected_dashboard(
    account: uuid.UUID, base: dict[str, list[dict[str, Any]]], now: dt.datetime
) -> list[dict[str, Any]]:
    leads, posts = _live(base["leads"]), _live(base["scheduled_posts"])
    campaigns, ledger = _live(base["campaigns"]), base["token_transactions"]
    moments = [max(r["created_at"], r["updated_at"]) for r in leads + posts + campaigns]
    moments += [t["created_at"] for t in ledger]
    month_ago = now - dt.timedelta(days=30)
    return [
        {
            "account_id": account,
            "total_leads": len(leads),
            "converted_leads": sum(lead["status"] == "WON" for lead in leads),
            "avg_lead_score": _mean(lead["score"] for lead in leads),
            "total_posts": len(posts),
            "published_posts": sum(post["status"] == "published" for post in posts),
            "total_campaigns": len(campaigns),
            "active_campaigns": sum(c["status"] == "active" for c in campaigns),
            "tokens_used_30d": sum(
                -t["amount"]
                for t in ledger
                if t["type"] == "usage" and t["created_at"] >= month_ago
            ),
            "last_activity_at": max(moments, default=None),
        }
    ]


def _last_of(measurements: Iterable[dict[str, Any]], key: Any) -> list[dict[str, Any]]:
    """The latest measurement for each value of ``key(measurement)``."""
    latest: dict[Any, dict[str, Any]] = {}
    for m in measurements:
        k = key(m)
        if k not in latest or m["measured_at"] > latest[k]["measured_at"]:
            latest[k] = m
    return list(latest.values())


def expected_social_performance(
    account: uuid.UUID, base: dict[str, list[dict[str, Any]]], now: dt.datetime
) -> list[dict[str, Any]]:
    live_posts = {post["id"] for post in _live(base["scheduled_posts"])}
    since = now - dt.timedelta(days=90)
    measured = [
        m
        for m in base["social_metrics"]
        if m["post_id"] in live_posts and m["measured_at"] >= since
    ]
    day_close = _last_of(
        measured, lambda m: (m["post_id"], m["platform"], _utc_day(m["measured_at"]))
    )
    groups: dict[tuple[str, dt.date], list[dict[str, Any]]] = defaultdict(list)
    for m in day_close:
        groups[(m["platform"], _utc_day(m["measured_at"]))].append(m)
    return [
        {
            "account_id": account,
            "platform": platform,
            "day": day,
            "posts": len({m["post_id"] for m in ms}),
            "impressions": sum(m["impressions"] for m in ms),
            "reach": sum(m["reach"] for m in ms),
            "engagement": sum(m["engagement_count"] for m in ms),
            "clicks": sum(m["clicks"] for m in ms),
            "avg_engagement_rate": _mean(m["engagement_rate"] for m in ms),
            "avg_click_through_rate": _mean(m["click_through_rate"] for m in ms),
        }
        for (platform, day), ms in groups.items()
    ]


def expected_lead_funnel(
    account: uuid.UUID, base: dict[str, list[dict[str, Any]]], now: dt.datetime
) -> list[dict[str, Any]]:
    since = now - dt.timedelta(days=365)
    groups: dict[tuple[dt.date, str], list[dict[str, Any]]] = defaultdict(list)
    for lead in _live(base["leads"]):
        if lead["created_at"] >= since:
            day = _utc_day(lead["created_at"])
            monday = day - dt.timedelta(days=day.weekday())
            groups[(monday, lead["source"] or "unknown")].append(lead)
    rows = []
    for (week, source), leads in groups.items():
        count = {status: sum(lead["status"] == status for lead in leads) for status in STATUSES}
        rows.append(
            {
                "account_id": account,
                "week": week,
                "source": source,
                "total_leads": len(leads),
                **{f"{status.lower()}_leads": n for status, n in count.items()},
                "avg_score": _mean(lead["score"] for lead in leads),
                "conversion_rate": Decimal(count["WON"]) / len(leads),
            }
        )
    return rows


def expected_content_performance(
    account: uuid.UUID, base: dict[str, list[dict[str, Any]]], now: dt.datetime
) -> list[dict[str, Any]]:
    since = now - dt.timedelta(days=90)
    rows = []
    for post in _live(base["scheduled_posts"]):
        if post["status"] != "published" or post["published_at"] < since:
            continue
        latest = _last_of(
            (m for m in base["social_metrics"] if m["post_id"] == post["id"]),
            lambda m: m["platform"],
        )
        opinions = [s for s in base["sentiment_analysis"] if s["post_id"] == post["id"]]
        labels = [s["sentiment_label"] for s in opinions]
        rows.append(
            {
                "account_id": account,
                "post_id": post["id"],
                "campaign_id": post["campaign_id"],
                "platforms": post["platforms"],
                "published_at": post["published_at"],
                "platforms_measured": len(latest),
                "impressions": sum(m["impressions"] for m in latest),
                "reach": sum(m["reach"] for m in latest),
                "engagement": sum(m["engagement_count"] for m in latest),
                "clicks": sum(m["clicks"] for m in latest),
                "likes": sum(m["likes"] for m in latest),
                "comments": sum(m["comments"] for m in latest),
                "shares": sum(m["shares"] for m in latest),
                "last_measured_at": max((m["measured_at"] for m in latest), default=None),
                "comments_analyzed": len(opinions),
                "avg_sentiment_score": _mean(s["sentiment_score"] for s in opinions),
                "positive_comments": labels.count("positive"),
                "neutral_comments": labels.count("neutral"),
                "negative_comments": labels.count("negative"),
                "mixed_comments": labels.count("mixed"),
            }
        )
    return rows


def expected_ai_usage(
    account: uuid.UUID, base: dict[str, list[dict[str, Any]]], now: dt.datetime
) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for g in base["content_generations"]:
        key = (_utc_day(g["created_at"]), g["content_type"], g["ai_provider"], g["ai_model"])
        groups[key].append(g)
    rows = []
    for (day, content_type, provider, model), generations in groups.items():
        used = sum(g["was_used"] for g in generations)
        rows.append(
            {
                "account_id": account,
                "day": day,
                "content_type": content_type,
                "ai_provider": provider,
                "ai_model": model,
                "generations": len(generations),
                "total_tokens": sum(g["total_tokens"] for g in generations),
                "avg_quality_score": _mean(g["quality_score"] for g in generations),
                "used_count": used,
                "usage_rate": Decimal(used) / len(generations),
            }
        )
    return rows


def _difference_pct(ours: Any, theirs: Any) -> Decimal | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return (Decimal(ours) - Decimal(theirs)) * 100 / Decimal(theirs)


def expected_competitor_comparison(
    account: uuid.UUID, base: dict[str, list[dict[str, Any]]], now: dt.datetime
) -> list[dict[str, Any]]:
    competitors = {c["id"]: c for c in _live(base["competitor_profiles"])}
    latest = _last_of(
        (m for m in base["competitor_metrics"] if m["competitor_id"] in competitors),
        lambda m: (m["competitor_id"], m["platform"]),
    )
    return [
        {
            "account_id": account,
            "competitor_id": m["competitor_id"],
            "competitor_name": competitors[m["competitor_id"]]["name"],
            "platform": m["platform"],
            "measured_at": m["measured_at"],
            "followers_count": m["followers_count"],
            "our_followers_count": m["our_followers_count"],
            "followers_diff_pct": _difference_pct(m["our_followers_count"], m["followers_count"]),
            "avg_engagement_rate": m["avg_engagement_rate"],
            "our_avg_engagement_rate": m["our_avg_engagement_rate"],
            "engagement_diff_pct": _difference_pct(
                m["our_avg_engagement_rate"], m["avg_engagement_rate"]
            ),
            "posting_frequency": m["posting_frequency"],
            "our_posting_frequency": m["our_posting_frequency"],
        }
        for m in latest
    ]


EXPECTED = {
    "mv_dashboard_kpis": expected_dashboard,
    "mv_social_performance": expected_social_performance,
    "mv_lead_funnel": expected_lead_funnel,
    "mv_content_performance": expected_content_performance,
    "mv_ai_usage": expected_ai_usage,
    "mv_competitor_comparison": expected_competitor_comparison,
}


def _same(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is expected
    if isinstance(expected, Decimal | float) or isinstance(actual, Decimal | float):
        return float(actual) == pytest.approx(float(expected), rel=1e-12, abs=1e-12)
    return bool(actual == expected)


def _view_rows(urls: DatabaseURLs, view: str, account: uuid.UUID) -> list[dict[str, Any]]:
    with bootstrap.connect(urls.owner) as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT * FROM {view} WHERE account_id = %s", (account,)).fetchall()


# --- the figures ---------------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
def test_every_account_gets_exactly_its_own_figures(seeded: Seeded, view: str) -> None:
    now = dt.datetime.now(UTC)
    key = KEYS[view]
    expected_total = 0
    for account in seeded.accounts:
        expected = EXPECTED[view](account, _base_rows(seeded.urls, account), now)
        actual = _view_rows(seeded.urls, view, account)
        expected_total += len(expected)
        by_key = {tuple(row[k] for k in key): row for row in actual}
        assert len(by_key) == len(actual), f"{view}: duplicate keys"
        assert by_key.keys() == {tuple(row[k] for k in key) for row in expected}, view
        for want in expected:
            got = by_key[tuple(want[k] for k in key)]
            assert got.keys() == want.keys(), view
            wrong = {c: (got[c], v) for c, v in want.items() if not _same(got[c], v)}
            assert wrong == {}, f"{view} {account}: (view, expected) differ"
    with bootstrap.connect(seeded.urls.owner) as conn:
        # nothing besides the live accounts' rows (no deleted account, no stray tenant)
        total = conn.execute(f"SELECT count(*) FROM {view}").fetchone()
        assert total == (expected_total,)
        owners = {r[0] for r in conn.execute(f"SELECT DISTINCT account_id FROM {view}")}
        assert owners <= set(seeded.accounts)


def test_the_data_set_exercises_every_view(seeded: Seeded) -> None:
    """Guards the test above against passing on empty views."""
    busy = seeded.accounts[:3]
    with bootstrap.connect(seeded.urls.owner) as conn:
        for view in VIEWS:
            for account in busy:
                row = conn.execute(
                    f"SELECT count(*) FROM {view} WHERE account_id = %s", (account,)
                ).fetchone()
                assert row is not None and row[0] >= 1, (view, account)
        multiple = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM social_metrics GROUP BY account_id, post_id,"
            " platform, (measured_at AT TIME ZONE 'UTC')::date HAVING count(*) > 1) s"
        ).fetchone()
        assert multiple is not None and multiple[0] > 0
        empty = conn.execute(
            "SELECT total_leads, total_posts, tokens_used_30d, avg_lead_score, last_activity_at"
            " FROM mv_dashboard_kpis WHERE account_id = %s",
            (seeded.accounts[3],),
        ).fetchall()
        assert empty == [(0, 0, 0, None, None)]
        deleted = conn.execute(
            "SELECT count(*) FROM mv_dashboard_kpis WHERE account_id = %s",
            (seeded.deleted_account,),
        ).fetchone()
        assert deleted == (0,)


# --- tenant isolation and privileges --------------------------------------------------------


def _as_tenant(urls: DatabaseURLs, account: uuid.UUID | None, sql: str) -> list[tuple[Any, ...]]:
    with bootstrap.connect(urls.app, autocommit=False) as conn:
        if account is not None:
            conn.execute("SELECT set_config('app.current_account_id', %s, true)", (str(account),))
        rows = conn.execute(sql).fetchall()
        conn.rollback()
    return rows


@pytest.mark.parametrize("view", VIEWS)
def test_the_app_reads_only_its_tenants_rows_through_the_v_view(seeded: Seeded, view: str) -> None:
    tenant_view = TENANT_VIEWS[view]
    for account in seeded.accounts:
        with bootstrap.connect(seeded.urls.owner) as conn:
            own = conn.execute(f"SELECT * FROM {view} WHERE account_id = %s", (account,)).fetchall()
        seen = _as_tenant(seeded.urls, account, f"SELECT * FROM {tenant_view}")
        assert sorted(map(repr, seen)) == sorted(map(repr, own))
    assert _as_tenant(seeded.urls, None, f"SELECT * FROM {tenant_view}") == []
    assert _as_tenant(seeded.urls, uuid.uuid4(), f"SELECT * FROM {tenant_view}") == []
    # after a transaction-local tenant ends the setting is '', which must still mean nobody
    with bootstrap.connect(seeded.urls.app) as conn:
        with conn.transaction():
            conn.execute(
                "SELECT set_config('app.current_account_id', %s, true)", (str(seeded.accounts[0]),)
            )
        assert conn.execute(f"SELECT count(*) FROM {tenant_view}").fetchone() == (0,)


def test_the_app_cannot_read_materialized_views_or_refresh(seeded: Seeded) -> None:
    with bootstrap.connect(seeded.urls.app) as conn:
        for view in VIEWS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM {view}")
        for call in ("SELECT * FROM refresh_read_models()",
                     "SELECT * FROM refresh_read_model('mv_dashboard_kpis')"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(call)
        for statement in (
            "INSERT INTO read_model_refreshes VALUES ('mv_x', now(), 0, 0)",
            "UPDATE read_model_refreshes SET rows = 0",
            "DELETE FROM read_model_refreshes",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM read_model_refreshes").fetchone() == (6,)
        for tenant_view in TENANT_VIEWS.values():
            privileges = conn.execute(
                "SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',"
                " 'REFERENCES', 'TRIGGER']) p WHERE has_table_privilege(%s, p)",
                (tenant_view,),
            ).fetchall()
            assert privileges == [("SELECT",)], tenant_view


def test_only_the_owner_may_execute_the_refresh_functions(seeded: Seeded) -> None:
    with bootstrap.connect(seeded.urls.owner) as conn:
        rows = conn.execute(
            "SELECT p.proname, p.prosecdef, p.proconfig,"
            " has_function_privilege('markettina_app', p.oid, 'EXECUTE'),"
            " has_function_privilege('markettina_owner', p.oid, 'EXECUTE'),"
            " (SELECT count(*) FROM aclexplode(p.proacl) a WHERE a.grantee = 0)"
            " FROM pg_proc p WHERE p.proname IN ('refresh_read_models', 'refresh_read_model')"
            " ORDER BY p.proname"
        ).fetchall()
    assert [r[0] for r in rows] == ["refresh_read_model", "refresh_read_models"]
    for _, definer, config, app_may, owner_may, public_grants in rows:
        assert definer and config == ["search_path=public, pg_temp"]
        assert (app_may, owner_may, public_grants) == (False, True, 0)


# --- refreshing ------------------------------------------------------------------------------


def test_a_second_refresh_returns_nothing_while_one_runs(seeded: Seeded) -> None:
    with (
        bootstrap.connect(seeded.urls.owner, autocommit=False) as first,
        bootstrap.connect(seeded.urls.owner) as second,
    ):
        second.execute("SET statement_timeout = '5s'")  # would fail the test, not hang it
        assert len(first.execute("SELECT * FROM refresh_read_models()").fetchall()) == 6
        # the first transaction is still open: it holds the lock and the views
        assert refresh_read_models(second) == []
        assert list(iter_refresh_read_models(second)) == []
        assert second.execute("SELECT * FROM refresh_read_model('mv_ai_usage')").fetchall() == []
        first.commit()
        # a session-level holder of the same key blocks refreshes just the same
        first.execute("SELECT pg_advisory_lock(%s)", (REFRESH_LOCK_KEY,))
        assert refresh_read_models(second) == []
        first.execute("SELECT pg_advisory_unlock(%s)", (REFRESH_LOCK_KEY,))
        first.commit()
        assert len(refresh_read_models(second)) == 6


def test_refresh_twice_records_each_view_and_goes_concurrent(seeded: Seeded) -> None:
    with bootstrap.connect(seeded.urls.owner) as conn:
        first = refresh_read_models(conn)
        second = refresh_read_models(conn)
        recorded = conn.execute(
            "SELECT view_name, refreshed_at, duration_ms, rows FROM read_model_refreshes"
        ).fetchall()
        counts = {v: conn.execute(f"SELECT count(*) FROM {v}").fetchone()[0] for v in VIEWS}
    assert [r.view_name for r in first] == [r.view_name for r in second] == list(VIEWS)
    assert all(isinstance(r, Refresh) and r.duration_ms >= 0 for r in first + second)
    for before, after in zip(first, second, strict=True):
        assert after.refreshed_at > before.refreshed_at
    assert {Refresh(*row) for row in recorded} == set(second)
    assert {r.view_name: r.rows for r in second} == counts


def test_a_populated_view_refreshes_concurrently_and_readers_go_on(seeded: Seeded) -> None:
    with (
        bootstrap.connect(seeded.urls.owner, autocommit=False) as refresher,
        bootstrap.connect(seeded.urls.app, autocommit=False) as reader,
    ):
        refreshed = refresher.execute(
            "SELECT view_name FROM refresh_read_model('mv_dashboard_kpis')"
        ).fetchall()
        assert refreshed == [("mv_dashboard_kpis",)]
        modes = {
            r[0]
            for r in refresher.execute(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid()"
                " AND relation = 'mv_dashboard_kpis'::regclass"
            )
        }
        assert "ExclusiveLock" in modes and "AccessExclusiveLock" not in modes
        # while the refresh's transaction is open, the app still reads the view
        reader.execute("SET statement_timeout = '5s'")
        reader.execute(
            "SELECT set_config('app.current_account_id', %s, true)", (str(seeded.accounts[0]),)
        )
        assert reader.execute("SELECT count(*) FROM v_dashboard_kpis").fetchone() == (1,)
        reader.rollback()
        refresher.commit()


def test_an_unpopulated_view_gets_a_plain_refresh(fresh_db: DatabaseURLs) -> None:
    with bootstrap.connect(fresh_db.owner) as conn:
        for view in VIEWS:
            conn.execute(f"REFRESH MATERIALIZED VIEW {view} WITH NO DATA")
        with conn.transaction():
            refreshed = [r.view_name for r in iter_refresh_read_models(conn)]
            modes = {
                r[0]
                for r in conn.execute(
                    "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid()"
                    " AND relation = 'mv_lead_funnel'::regclass"
                )
            }
        assert refreshed == list(VIEWS)
        assert "AccessExclusiveLock" in modes  # CONCURRENTLY cannot fill an empty view
        populated = conn.execute(
            "SELECT bool_and(ispopulated) FROM pg_matviews WHERE matviewname = ANY(%s)",
            (list(VIEWS),),
        ).fetchone()
        assert populated == (True,)
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute("SELECT * FROM refresh_read_model('accounts')")


def test_every_view_has_the_unique_index_concurrent_refresh_needs(
    template_db: DatabaseURLs,
) -> None:
    with bootstrap.connect(template_db.owner) as conn:
        rows = conn.execute(
            "SELECT c.relname, array_agg(a.attname ORDER BY k.n)"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
            " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n)"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
            " WHERE c.relkind = 'm' AND i.indisunique AND i.indpred IS NULL"
            " GROUP BY c.relname, i.indexrelid"
        ).fetchall()
        recorded = conn.execute("SELECT view_name, duration_ms, rows FROM read_model_refreshes")
        # creating the views was their first refresh
        assert sorted(r[0] for r in recorded) == sorted(VIEWS)
    assert {name: tuple(columns) for name, columns in rows} == KEYS


# --- freshness, as the app ------------------------------------------------------------------


@pytest.fixture
async def app_session(seeded: Seeded) -> AsyncIterator[AsyncSession]:
    engine = create_async_engine(seeded.urls.app, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            yield session
    finally:
        await engine.dispose()


async def test_the_app_learns_how_fresh_each_view_is(
    seeded: Seeded, app_session: AsyncSession
) -> None:
    with bootstrap.connect(seeded.urls.owner) as conn:
        refreshes = refresh_read_models(conn)
    freshness = await read_model_freshness(app_session)
    assert list(freshness) == list(VIEWS)
    assert freshness == {r.view_name: r.refreshed_at for r in refreshes}


async def test_periodic_job_refreshes_every_read_model(fresh_db: DatabaseURLs) -> None:
    from markettina.analytics.tasks import refresh_read_models_job
    from markettina.kernel import jobs
    from markettina.kernel.db.urls import as_libpq_url

    jobs.configure_maintenance(as_libpq_url(fresh_db.owner))
    result = await refresh_read_models_job(timestamp=0)
    assert sorted(result) == sorted(VIEWS)
