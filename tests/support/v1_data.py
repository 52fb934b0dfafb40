# ruff: noqa: E501  (SQL data rows read best one per line)
"""A realistic v1 database: several users and what they owned, plus rows with no owner."""

from __future__ import annotations

from typing import Any

import psycopg

V1_DATASET = """
INSERT INTO users (id, email, password_hash, full_name, role, is_verified, created_at) VALUES
  (1, 'ada.lovelace@example.com', 'argon2$a', 'Ada Lovelace', 'admin', true, '2024-01-05'),
  (2, 'ada@other.example', 'argon2$b', NULL, 'user', true, '2024-02-10'),
  (3, 'Grace.Hopper+news@navy.example', 'argon2$c', 'Grace Hopper', 'user', false, '2024-03-01'),
  (4, 'legacy@example.com', NULL, 'Named Legacy', 'user', false, '2024-03-02');
SELECT setval(pg_get_serial_sequence('users', 'id'), 4);

INSERT INTO admin_users (id, email, password_hash, full_name, is_superadmin) VALUES
  (1, 'ops@markettina.example', 'argon2$s', 'Ops', true);
INSERT INTO admin_sessions (admin_user_id, token_hash, ip, user_agent, expires_at) VALUES
  (1, 'h1', '10.0.0.1', 'curl', '2030-01-01');
INSERT INTO admin_audit_logs (admin_user_id, action, target_type, target_id, details, ip) VALUES
  (1, 'user.suspend', 'user', '3', '{"reason": "spam"}', '10.0.0.1');
INSERT INTO oauth_tokens (user_id, provider, access_token_encrypted, scope) VALUES
  (1, 'google', 'enc:abc', 'email profile');

INSERT INTO leads (id, user_id, name, email, phone, company, source, status, score, notes, tags, created_by) VALUES
  (1, 1, 'Bob Builder', 'bob@build.example', '+39 06 123', 'Build srl', 'web', 'QUALIFIED', 70, 'call back', '{hot,b2b}', 1),
  (2, 1, 'Carla', NULL, NULL, NULL, 'fair', 'WON', 95, NULL, '{}', 1),
  (3, 2, 'Dario', 'dario@x.example', NULL, 'X', 'ads', 'NEW', 10, NULL, '{cold}', 2),
  (4, 3, 'Eva', 'eva@y.example', NULL, 'Y', 'referral', 'LOST', 0, 'budget', '{}', NULL),
  (5, NULL, 'Imported Orphan', 'orphan@z.example', NULL, NULL, 'csv', 'CONTACTED', 40, NULL, '{import}', NULL);
SELECT setval(pg_get_serial_sequence('leads', 'id'), 5);

INSERT INTO email_campaigns (user_id, name, subject, body_html, body_text, status, scheduled_at, recipients, sent_count, open_count) VALUES
  (1, 'Spring promo', 'Spring!', '<p>Hi</p>', 'Hi', 'sent', '2024-04-01', '["a@x.example"]', 120, 60),
  (3, 'Newsletter', NULL, NULL, NULL, 'draft', NULL, '[]', 0, 0);

INSERT INTO scheduled_posts (id, user_id, content, media_urls, hashtags, platforms, status, scheduled_at, published_at, ai_generated, platform_post_ids, created_by) VALUES
  (1, 1, 'Launch day!', '{https://cdn.example/a.png}', '{launch}', '{instagram,linkedin}', 'published', '2024-05-01 09:00+00', '2024-05-01 09:00+00', true, '{"instagram": "ig_1"}', 1),
  (2, 1, 'Teaser', '{}', '{}', '{facebook}', 'scheduled', '2030-01-01 10:00+00', NULL, false, '{}', 1),
  (3, 2, 'Hello world', '{}', '{hello}', '{x}', 'failed', NULL, NULL, false, '{}', 2);
UPDATE scheduled_posts SET error_message = 'token expired' WHERE id = 3;
SELECT setval(pg_get_serial_sequence('scheduled_posts', 'id'), 3);

INSERT INTO editorial_calendars (user_id, name, description, start_date, end_date, entries) VALUES
  (1, 'Q2 plan', 'Launch quarter', '2024-04-01', '2024-06-30', '[{"day": "2024-05-01", "post": 1}]');

INSERT INTO brand_settings (user_id, company_name, tagline, description, tone_of_voice, primary_color, secondary_color, logo_url, font_family, target_audience, keywords) VALUES
  (1, 'Lovelace Analytics', 'Numbers that sing', 'We compute', 'warm, precise', '#112233', '#AABBCC', 'https://cdn.example/logo.png', 'Inter', 'SMBs in Italy', '{analytics,data}'),
  (3, 'Hopper Labs', NULL, NULL, 'playful', '#000000', NULL, NULL, NULL, NULL, '{}');

INSERT INTO customers (id, user_id, name, email, company, tags, lifetime_value_cents, currency) VALUES
  ('00000000-0000-4000-8000-000000000001', 1, 'Build srl', 'info@build.example', 'Build srl', '{vip}', 150000, 'EUR'),
  ('00000000-0000-4000-8000-000000000002', 2, 'X spa', NULL, 'X', '{}', 0, 'EUR');
INSERT INTO customer_notes (customer_id, user_id, content) VALUES
  ('00000000-0000-4000-8000-000000000001', 1, 'Prefers e-mail'),
  ('00000000-0000-4000-8000-000000000002', NULL, 'Imported note');
INSERT INTO customer_interactions (customer_id, user_id, interaction_type, channel, summary, occurred_at) VALUES
  ('00000000-0000-4000-8000-000000000001', 1, 'call', 'phone', 'Renewal talk', '2024-06-01');

INSERT INTO token_packages (id, name, tokens, bonus_tokens, price_cents, currency, stripe_price_id, sort_order) VALUES
  ('00000000-0000-4000-8000-0000000000a1', 'Starter', 1000, 100, 990, 'EUR', 'price_starter', 1);
INSERT INTO token_wallets (id, user_id, balance, total_purchased, total_used, total_bonus) VALUES
  ('00000000-0000-4000-8000-0000000000b1', 1, 1050, 1000, 50, 100),
  ('00000000-0000-4000-8000-0000000000b2', 2, 0, 0, 0, 0);
INSERT INTO token_transactions (wallet_id, type, amount, balance_after, service_type, service_subtype, reference_type, reference_id, description, idempotency_key, created_at) VALUES
  ('00000000-0000-4000-8000-0000000000b1', 'purchase', 1000, 1000, NULL, NULL, 'payment', 'pi_1', 'Starter', 'k1', '2024-04-01'),
  ('00000000-0000-4000-8000-0000000000b1', 'bonus', 100, 1100, NULL, NULL, 'payment', 'pi_1', 'Starter bonus', 'k2', '2024-04-01'),
  ('00000000-0000-4000-8000-0000000000b1', 'usage', -50, 1050, 'text_generation', 'blog_post', 'post', '1', 'Blog', 'k3', '2024-04-02');
INSERT INTO subscriptions (user_id, plan, status, stripe_customer_id, stripe_subscription_id, current_period_start, current_period_end) VALUES
  (1, 'pro', 'active', 'cus_1', 'sub_1', '2024-04-01', '2024-05-01');
INSERT INTO payments (user_id, stripe_payment_intent_id, stripe_checkout_session_id, amount_cents, currency, status, token_package_id, tokens_purchased) VALUES
  (1, 'pi_1', 'cs_1', 990, 'EUR', 'succeeded', '00000000-0000-4000-8000-0000000000a1', 1000);
INSERT INTO usage_records (user_id, service_type, service_subtype, quantity, tokens_used, metadata) VALUES
  (1, 'text_generation', 'blog_post', 1, 50, '{"post": 1}');
INSERT INTO analytics_events (event_name, properties, user_id, session_id, occurred_at) VALUES
  ('page_view', '{"path": "/"}', 1, 's1', '2024-04-01 10:00+00'),
  ('signup', '{}', NULL, 's2', '2024-04-02 11:00+00');
"""


def load_v1_dataset(conn: psycopg.Connection[Any]) -> None:
    conn.execute(V1_DATASET)


def snapshot(
    conn: psycopg.Connection[Any], table: str, columns: list[str]
) -> list[tuple[Any, ...]]:
    """Every row of ``table``, restricted to ``columns``, in a stable order."""
    listed = ", ".join(columns)
    return conn.execute(f"SELECT {listed} FROM {table} ORDER BY id::text").fetchall()


def v1_columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        (table,),
    )
    return [r[0] for r in rows]
