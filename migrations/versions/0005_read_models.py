"""The six read models (materialized views) of schema.md, their tenant-filtered views for
the app, and the function that refreshes them under an advisory lock.

Every view is per account and aggregates each source table on its own (a CTE grouped by
account) before joining, so no row is ever counted twice. Soft-deleted rows are left out.
Days and weeks are UTC calendar days and ISO weeks, whatever the session's time zone.

The owner (``BYPASSRLS``) builds and refreshes the views, so they hold every account's
rows: the app gets no privilege on ``mv_*`` and reads ``v_*``, ``security_barrier`` views
filtered on the same tenant setting as the row-level security policies (rule 4).

Revision ID: 0005_read_models
Revises: 0004_event_store
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_read_models"
down_revision: str | None = "0004_event_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

# any fixed number (the same as markettina.analytics.read_models.REFRESH_LOCK_KEY)
REFRESH_LOCK_KEY = 4_820_806_937_487_451_612

TENANT_FILTER = "account_id = nullif(current_setting('app.current_account_id', true), '')::uuid"

# 1. per account: leads, posts, campaigns, tokens and the latest activity among them
DASHBOARD_KPIS = """
CREATE MATERIALIZED VIEW mv_dashboard_kpis AS
WITH lead_stats AS (
    SELECT account_id,
           count(*) AS total_leads,
           count(*) FILTER (WHERE status = 'WON') AS converted_leads,
           avg(score) AS avg_lead_score,
           max(greatest(created_at, updated_at)) AS last_activity_at
    FROM leads
    WHERE deleted_at IS NULL
    GROUP BY account_id
), post_stats AS (
    SELECT account_id,
           count(*) AS total_posts,
           count(*) FILTER (WHERE status = 'published') AS published_posts,
           max(greatest(created_at, updated_at)) AS last_activity_at
    FROM scheduled_posts
    WHERE deleted_at IS NULL
    GROUP BY account_id
), campaign_stats AS (
    SELECT account_id,
           count(*) AS total_campaigns,
           count(*) FILTER (WHERE status = 'active') AS active_campaigns,
           max(greatest(created_at, updated_at)) AS last_activity_at
    FROM campaigns
    WHERE deleted_at IS NULL
    GROUP BY account_id
), token_stats AS (
    -- usage rows carry negative amounts
    SELECT account_id,
           sum(-amount) FILTER (
               WHERE type = 'usage' AND created_at >= now() - interval '30 days'
           ) AS tokens_used_30d,
           max(created_at) AS last_activity_at
    FROM token_transactions
    GROUP BY account_id
)
SELECT a.id AS account_id,
       coalesce(l.total_leads, 0) AS total_leads,
       coalesce(l.converted_leads, 0) AS converted_leads,
       l.avg_lead_score,
       coalesce(p.total_posts, 0) AS total_posts,
       coalesce(p.published_posts, 0) AS published_posts,
       coalesce(c.total_campaigns, 0) AS total_campaigns,
       coalesce(c.active_campaigns, 0) AS active_campaigns,
       coalesce(t.tokens_used_30d, 0) AS tokens_used_30d,
       greatest(l.last_activity_at, p.last_activity_at, c.last_activity_at,
                t.last_activity_at) AS last_activity_at
FROM accounts a
LEFT JOIN lead_stats l ON l.account_id = a.id
LEFT JOIN post_stats p ON p.account_id = a.id
LEFT JOIN campaign_stats c ON c.account_id = a.id
LEFT JOIN token_stats t ON t.account_id = a.id
WHERE a.deleted_at IS NULL
WITH DATA
"""

# 2. per account, platform and day (last 90 days). Metrics are running totals, so a day
#    counts the day's last measurement of each post on each platform, not every one of them.
SOCIAL_PERFORMANCE = """
CREATE MATERIALIZED VIEW mv_social_performance AS
WITH day_close AS (
    SELECT DISTINCT ON (m.account_id, m.post_id, m.platform,
                        (m.measured_at AT TIME ZONE 'UTC')::date)
           m.account_id, m.platform, (m.measured_at AT TIME ZONE 'UTC')::date AS day,
           m.post_id, m.impressions, m.reach, m.engagement_count, m.clicks,
           m.engagement_rate, m.click_through_rate
    FROM social_metrics m
    JOIN scheduled_posts p
      ON p.account_id = m.account_id AND p.id = m.post_id AND p.deleted_at IS NULL
    WHERE m.measured_at >= now() - interval '90 days'
    ORDER BY m.account_id, m.post_id, m.platform, (m.measured_at AT TIME ZONE 'UTC')::date,
             m.measured_at DESC
)
SELECT account_id,
       platform,
       day,
       count(DISTINCT post_id) AS posts,
       sum(impressions)::bigint AS impressions,
       sum(reach)::bigint AS reach,
       sum(engagement_count)::bigint AS engagement,
       sum(clicks)::bigint AS clicks,
       avg(engagement_rate) AS avg_engagement_rate,
       avg(click_through_rate) AS avg_click_through_rate
FROM day_close
GROUP BY account_id, platform, day
WITH DATA
"""

# 3. per account, ISO week and source (last year): leads per status and conversion
LEAD_FUNNEL = """
CREATE MATERIALIZED VIEW mv_lead_funnel AS
SELECT account_id,
       date_trunc('week', created_at AT TIME ZONE 'UTC')::date AS week,
       coalesce(nullif(source, ''), 'unknown') AS source,
       count(*) AS total_leads,
       count(*) FILTER (WHERE status = 'NEW') AS new_leads,
       count(*) FILTER (WHERE status = 'CONTACTED') AS contacted_leads,
       count(*) FILTER (WHERE status = 'QUALIFIED') AS qualified_leads,
       count(*) FILTER (WHERE status = 'PROPOSAL_SENT') AS proposal_sent_leads,
       count(*) FILTER (WHERE status = 'NEGOTIATION') AS negotiation_leads,
       count(*) FILTER (WHERE status = 'WON') AS won_leads,
       count(*) FILTER (WHERE status = 'LOST') AS lost_leads,
       avg(score) AS avg_score,
       count(*) FILTER (WHERE status = 'WON')::numeric / count(*) AS conversion_rate
FROM leads
WHERE deleted_at IS NULL AND created_at >= now() - interval '1 year'
-- by expression: a bare "source" would group by the column, not the coalesced output
GROUP BY account_id, date_trunc('week', created_at AT TIME ZONE 'UTC')::date,
         coalesce(nullif(source, ''), 'unknown')
WITH DATA
"""

# 4. per post published in the last 90 days: metrics (each platform's latest measurement)
#    and sentiment, aggregated separately and joined one row per post
CONTENT_PERFORMANCE = """
CREATE MATERIALIZED VIEW mv_content_performance AS
WITH recent_posts AS (
    SELECT account_id, id AS post_id, campaign_id, platforms, published_at
    FROM scheduled_posts
    WHERE deleted_at IS NULL AND status = 'published'
      AND published_at >= now() - interval '90 days'
), latest_metrics AS (
    SELECT DISTINCT ON (m.account_id, m.post_id, m.platform)
           m.account_id, m.post_id, m.platform, m.impressions, m.reach, m.engagement_count,
           m.clicks, m.likes, m.comments, m.shares, m.measured_at
    FROM social_metrics m
    JOIN recent_posts p ON p.account_id = m.account_id AND p.post_id = m.post_id
    ORDER BY m.account_id, m.post_id, m.platform, m.measured_at DESC
), post_metrics AS (
    SELECT account_id, post_id,
           count(*) AS platforms_measured,
           sum(impressions)::bigint AS impressions,
           sum(reach)::bigint AS reach,
           sum(engagement_count)::bigint AS engagement,
           sum(clicks)::bigint AS clicks,
           sum(likes)::bigint AS likes,
           sum(comments)::bigint AS comments,
           sum(shares)::bigint AS shares,
           max(measured_at) AS last_measured_at
    FROM latest_metrics
    GROUP BY account_id, post_id
), post_sentiment AS (
    SELECT s.account_id, s.post_id,
           count(*) AS comments_analyzed,
           avg(s.sentiment_score) AS avg_sentiment_score,
           count(*) FILTER (WHERE s.sentiment_label = 'positive') AS positive_comments,
           count(*) FILTER (WHERE s.sentiment_label = 'neutral') AS neutral_comments,
           count(*) FILTER (WHERE s.sentiment_label = 'negative') AS negative_comments,
           count(*) FILTER (WHERE s.sentiment_label = 'mixed') AS mixed_comments
    FROM sentiment_analysis s
    JOIN recent_posts p ON p.account_id = s.account_id AND p.post_id = s.post_id
    GROUP BY s.account_id, s.post_id
)
SELECT p.account_id,
       p.post_id,
       p.campaign_id,
       p.platforms,
       p.published_at,
       coalesce(m.platforms_measured, 0) AS platforms_measured,
       coalesce(m.impressions, 0) AS impressions,
       coalesce(m.reach, 0) AS reach,
       coalesce(m.engagement, 0) AS engagement,
       coalesce(m.clicks, 0) AS clicks,
       coalesce(m.likes, 0) AS likes,
       coalesce(m.comments, 0) AS comments,
       coalesce(m.shares, 0) AS shares,
       m.last_measured_at,
       coalesce(s.comments_analyzed, 0) AS comments_analyzed,
       s.avg_sentiment_score,
       coalesce(s.positive_comments, 0) AS positive_comments,
       coalesce(s.neutral_comments, 0) AS neutral_comments,
       coalesce(s.negative_comments, 0) AS negative_comments,
       coalesce(s.mixed_comments, 0) AS mixed_comments
FROM recent_posts p
LEFT JOIN post_metrics m ON m.account_id = p.account_id AND m.post_id = p.post_id
LEFT JOIN post_sentiment s ON s.account_id = p.account_id AND s.post_id = p.post_id
WITH DATA
"""

# 5. per account, day, content type, provider and model: AI generations and their use
AI_USAGE = """
CREATE MATERIALIZED VIEW mv_ai_usage AS
SELECT account_id,
       (created_at AT TIME ZONE 'UTC')::date AS day,
       content_type,
       ai_provider,
       ai_model,
       count(*) AS generations,
       sum(total_tokens)::bigint AS total_tokens,
       avg(quality_score) AS avg_quality_score,
       count(*) FILTER (WHERE was_used) AS used_count,
       count(*) FILTER (WHERE was_used)::numeric / count(*) AS usage_rate
FROM content_generations
GROUP BY account_id, (created_at AT TIME ZONE 'UTC')::date, content_type, ai_provider, ai_model
WITH DATA
"""

# 6. per competitor and platform: its latest measurement against our numbers of that time
COMPETITOR_COMPARISON = """
CREATE MATERIALIZED VIEW mv_competitor_comparison AS
WITH latest AS (
    SELECT DISTINCT ON (account_id, competitor_id, platform)
           account_id, competitor_id, platform, measured_at,
           followers_count, our_followers_count,
           avg_engagement_rate, our_avg_engagement_rate,
           posting_frequency, our_posting_frequency
    FROM competitor_metrics
    ORDER BY account_id, competitor_id, platform, measured_at DESC, created_at DESC, id DESC
)
SELECT c.account_id,
       c.id AS competitor_id,
       c.name AS competitor_name,
       l.platform,
       l.measured_at,
       l.followers_count,
       l.our_followers_count,
       (l.our_followers_count - l.followers_count) * 100.0
           / nullif(l.followers_count, 0) AS followers_diff_pct,
       l.avg_engagement_rate,
       l.our_avg_engagement_rate,
       (l.our_avg_engagement_rate - l.avg_engagement_rate) * 100.0
           / nullif(l.avg_engagement_rate, 0) AS engagement_diff_pct,
       l.posting_frequency,
       l.our_posting_frequency
FROM competitor_profiles c
JOIN latest l ON l.account_id = c.account_id AND l.competitor_id = c.id
WHERE c.deleted_at IS NULL
WITH DATA
"""

# in refresh order, with the unique key that REFRESH ... CONCURRENTLY needs
READ_MODELS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("mv_dashboard_kpis", DASHBOARD_KPIS, ("account_id",)),
    ("mv_social_performance", SOCIAL_PERFORMANCE, ("account_id", "platform", "day")),
    ("mv_lead_funnel", LEAD_FUNNEL, ("account_id", "week", "source")),
    ("mv_content_performance", CONTENT_PERFORMANCE, ("account_id", "post_id")),
    (
        "mv_ai_usage",
        AI_USAGE,
        ("account_id", "day", "content_type", "ai_provider", "ai_model"),
    ),
    (
        "mv_competitor_comparison",
        COMPETITOR_COMPARISON,
        ("account_id", "competitor_id", "platform"),
    ),
)

REFRESHES_TABLE = """
CREATE TABLE read_model_refreshes (
    view_name text NOT NULL,
    refreshed_at timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    rows bigint NOT NULL,
    CONSTRAINT pk_read_model_refreshes PRIMARY KEY (view_name),
    CONSTRAINT ck_read_model_refreshes_non_negative CHECK (duration_ms >= 0 AND rows >= 0)
)
"""

_VIEW_NAMES = ", ".join(f"'{name}'" for name, _, _ in READ_MODELS)

# One view, under the advisory lock that keeps two refreshes from ever overlapping: a caller
# that cannot take it gets no row instead of waiting. The lock is the transaction's, and
# re-entrant, so a caller may refresh the six one by one in one transaction (with progress).
# refreshed_at is when the refresh started: the view's data is at least that fresh.
REFRESH_ONE_FUNCTION = f"""
CREATE FUNCTION refresh_read_model(target text) RETURNS SETOF read_model_refreshes
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    populated boolean;
    started timestamptz;
    elapsed_ms integer;
    row_total bigint;
BEGIN
    IF target IS NULL OR target <> ALL (ARRAY[{_VIEW_NAMES}]) THEN
        RAISE EXCEPTION 'not a read model: %', target USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock({REFRESH_LOCK_KEY}) THEN
        RETURN;
    END IF;
    SELECT m.ispopulated INTO populated
    FROM pg_matviews m WHERE m.schemaname = 'public' AND m.matviewname = target;
    started := clock_timestamp();
    IF populated THEN
        -- readers are not blocked meanwhile (needs the view's unique index)
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I', target);
    ELSE
        EXECUTE format('REFRESH MATERIALIZED VIEW %I', target);
    END IF;
    elapsed_ms := round(extract(epoch FROM clock_timestamp() - started) * 1000);
    EXECUTE format('SELECT count(*) FROM %I', target) INTO row_total;
    RETURN QUERY
        INSERT INTO read_model_refreshes AS r (view_name, refreshed_at, duration_ms, rows)
        VALUES (target, started, elapsed_ms, row_total)
        ON CONFLICT ON CONSTRAINT pk_read_model_refreshes DO UPDATE
        SET refreshed_at = EXCLUDED.refreshed_at,
            duration_ms = EXCLUDED.duration_ms,
            rows = EXCLUDED.rows
        RETURNING r.*;
END $$
"""

# all six, in one transaction under one lock (the every-15-minutes job)
REFRESH_ALL_FUNCTION = f"""
CREATE FUNCTION refresh_read_models() RETURNS SETOF read_model_refreshes
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    target text;
BEGIN
    IF NOT pg_try_advisory_xact_lock({REFRESH_LOCK_KEY}) THEN
        RETURN;
    END IF;
    FOREACH target IN ARRAY ARRAY[{_VIEW_NAMES}] LOOP
        RETURN QUERY SELECT * FROM refresh_read_model(target);
    END LOOP;
END $$
"""

REFRESH_FUNCTIONS = ("refresh_read_models()", "refresh_read_model(text)")


def _tenant_view(materialized: str) -> str:
    return "v_" + materialized.removeprefix("mv_")


def upgrade() -> None:
    bind = op.get_bind()
    op.execute(REFRESHES_TABLE)
    # the app may see how fresh the read models are, never record a refresh
    op.execute(f"REVOKE ALL ON read_model_refreshes FROM {APP_ROLE}")
    op.execute(f"GRANT SELECT ON read_model_refreshes TO {APP_ROLE}")
    for name, create, key in READ_MODELS:
        started = bind.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
        op.execute(create)
        # building the view is its first refresh
        bind.execute(
            sa.text(
                f"INSERT INTO read_model_refreshes (view_name, refreshed_at, duration_ms, rows) "
                f"SELECT :name, :started, "
                f"round(extract(epoch FROM clock_timestamp() - :started) * 1000), "
                f"(SELECT count(*) FROM {name})"
            ),
            {"name": name, "started": started},
        )
        columns = ", ".join(key)
        op.execute(f"CREATE UNIQUE INDEX uq_{name}_{'_'.join(key)} ON {name} ({columns})")
        # the owner's default privileges would let the app read every account's rows
        op.execute(f"REVOKE ALL ON {name} FROM {APP_ROLE}")
        view = _tenant_view(name)
        op.execute(
            f"CREATE VIEW {view} WITH (security_barrier) AS "
            f"SELECT * FROM {name} WHERE {TENANT_FILTER}"
        )
        op.execute(f"REVOKE ALL ON {view} FROM {APP_ROLE}")
        op.execute(f"GRANT SELECT ON {view} TO {APP_ROLE}")
    op.execute(REFRESH_ONE_FUNCTION)
    op.execute(REFRESH_ALL_FUNCTION)
    # cross-tenant maintenance: only the owner refreshes
    for function in REFRESH_FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, {APP_ROLE}")


def downgrade() -> None:
    for function in REFRESH_FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    for name, _, _ in reversed(READ_MODELS):
        op.execute(f"DROP VIEW {_tenant_view(name)}")
        op.execute(f"DROP MATERIALIZED VIEW {name}")
    op.execute("DROP TABLE read_model_refreshes")
