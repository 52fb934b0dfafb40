"""Posts: scheduling on chosen social accounts, full-text search, and the publisher's due query.

- ``scheduled_post_targets`` (tenant): the social accounts a post goes to, with composite
  references (CASCADE) to the post and to identity's ``social_accounts``, so a target can
  neither point at another account's social account nor outlive its post.
  ``scheduled_posts.platforms`` stays, derived from the targets by the statement that
  changes them.
- ``scheduled_posts.timezone``: the IANA zone the post was scheduled in.
- ``scheduled_posts.search_vector``: a generated tsvector of the content in Italian and in
  English, GIN-indexed (queries use ``websearch_to_tsquery`` in both configurations).
- ``scheduled_posts.user_id`` loses NOT NULL: a post written through an API key has no
  person behind it.
- indexes for the list (newest first), its date and hashtag filters, and a partial index of
  the scheduled posts only, per account and time, for the publisher.
- ``claim_due_posts(per_account, batch)``: the publisher's claim, a maintenance function
  only the owner executes (it reads every account's posts). It skips rows another
  transaction holds (``FOR UPDATE SKIP LOCKED``), takes at most ``per_account`` posts of
  each account, and fills the batch round-robin (every account's first post before anyone's
  second), so one account's backlog cannot starve the others. The claimed posts become
  ``publishing``.

Revision ID: 0023_post_scheduling
Revises: 0022_original_columns
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023_post_scheduling"
down_revision: str | None = "0022_original_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"
TENANT_PREDICATE = "account_id = nullif(current_setting('app.current_account_id', true), '')::uuid"
CLAIM = "claim_due_posts(integer, integer)"
SEARCH = "to_tsvector('italian'::regconfig, content) || to_tsvector('english'::regconfig, content)"

# $1: posts per account at most; $2: posts in all at most. The accounts with due posts are
# found by skipping through the partial index (one probe per account, not one per post).
CLAIM_FUNCTION = """
CREATE FUNCTION claim_due_posts(integer, integer)
RETURNS TABLE (account_id uuid, post_id integer, scheduled_at timestamptz)
LANGUAGE sql AS $$
WITH RECURSIVE due_accounts AS (
    (SELECT p.account_id FROM scheduled_posts p
     WHERE p.status = 'scheduled' AND p.deleted_at IS NULL AND p.scheduled_at <= now()
     ORDER BY p.account_id LIMIT 1)
    UNION ALL
    SELECT (SELECT p.account_id FROM scheduled_posts p
            WHERE p.status = 'scheduled' AND p.deleted_at IS NULL AND p.scheduled_at <= now()
              AND p.account_id > d.account_id
            ORDER BY p.account_id LIMIT 1)
    FROM due_accounts d WHERE d.account_id IS NOT NULL
),
locked AS (
    SELECT post.account_id, post.id, post.scheduled_at
    FROM due_accounts d
    CROSS JOIN LATERAL (
        SELECT p.account_id, p.id, p.scheduled_at FROM scheduled_posts p
        WHERE p.account_id = d.account_id AND p.status = 'scheduled'
          AND p.deleted_at IS NULL AND p.scheduled_at <= now()
        ORDER BY p.scheduled_at, p.id
        LIMIT $1
        FOR UPDATE SKIP LOCKED
    ) post
    WHERE d.account_id IS NOT NULL
),
fair AS (
    SELECT l.account_id, l.id FROM locked l
    ORDER BY row_number() OVER (PARTITION BY l.account_id ORDER BY l.scheduled_at, l.id),
             l.scheduled_at, l.account_id
    LIMIT $2
)
UPDATE scheduled_posts p SET status = 'publishing'
FROM fair
WHERE p.account_id = fair.account_id AND p.id = fair.id
RETURNING p.account_id, p.id, p.scheduled_at
$$;
"""


def upgrade() -> None:
    op.add_column("scheduled_posts", sa.Column("timezone", sa.Text()))
    op.add_column(
        "scheduled_posts",
        sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(SEARCH, persisted=True)),
    )
    op.alter_column("scheduled_posts", "user_id", nullable=True)
    op.create_index(
        "ix_scheduled_posts_account_id_created_at_id",
        "scheduled_posts",
        ["account_id", "created_at", "id"],
    )
    op.create_index(
        "ix_scheduled_posts_account_id_scheduled_at",
        "scheduled_posts",
        ["account_id", "scheduled_at"],
    )
    op.create_index(
        "ix_scheduled_posts_due",
        "scheduled_posts",
        ["account_id", "scheduled_at", "id"],
        postgresql_where=sa.text("status = 'scheduled' AND deleted_at IS NULL"),
    )
    op.create_index(
        "ix_scheduled_posts_hashtags", "scheduled_posts", ["hashtags"], postgresql_using="gin"
    )
    op.create_index(
        "ix_scheduled_posts_search", "scheduled_posts", ["search_vector"], postgresql_using="gin"
    )
    op.create_table(
        "scheduled_post_targets",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("social_account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"],
            name=op.f("fk_scheduled_post_targets_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_scheduled_post_targets_account_id_scheduled_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "social_account_id"],
            ["social_accounts.account_id", "social_accounts.id"],
            name=op.f("fk_scheduled_post_targets_account_id_social_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "post_id", "social_account_id", name=op.f("pk_scheduled_post_targets")
        ),
    )  # fmt: skip
    op.create_index(
        "ix_scheduled_post_targets_account_id_social_account_id",
        "scheduled_post_targets",
        ["account_id", "social_account_id"],
    )
    op.execute("ALTER TABLE scheduled_post_targets ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE scheduled_post_targets FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON scheduled_post_targets "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON scheduled_post_targets TO {APP_ROLE}")
    op.execute(CLAIM_FUNCTION)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {CLAIM} FROM PUBLIC, {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {CLAIM}")
    op.drop_table("scheduled_post_targets")
    for index in (
        "ix_scheduled_posts_search",
        "ix_scheduled_posts_hashtags",
        "ix_scheduled_posts_due",
        "ix_scheduled_posts_account_id_scheduled_at",
        "ix_scheduled_posts_account_id_created_at_id",
    ):
        op.drop_index(index, table_name="scheduled_posts")
    # posts written through an API key have no person: they cannot go back under NOT NULL
    op.execute("DELETE FROM scheduled_posts WHERE user_id IS NULL")
    op.alter_column("scheduled_posts", "user_id", nullable=False)
    op.drop_column("scheduled_posts", "search_vector")
    op.drop_column("scheduled_posts", "timezone")
