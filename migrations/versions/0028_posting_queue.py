"""Content: the posting queue (weekly slots per social account, in the queue's IANA time
zone) and recurring posts (a series, and on each of its posts the series and its rank).

Revision ID: 0028_posting_queue
Revises: 0027_post_scheduling
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from markettina.kernel.db.schema_support import disable_tenant_isolation, enable_tenant_isolation

revision: str = "0028_posting_queue"
down_revision: str | None = "0027_post_scheduling"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ("post_series", "posting_queues", "posting_slots")


def _audit_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
    ]  # fmt: skip


def upgrade() -> None:
    op.alter_column("editorial_calendars", "user_id", existing_type=sa.Integer(), nullable=True)
    op.create_index("ix_editorial_calendars_account_id_created_at", "editorial_calendars",
                    ["account_id", "created_at"])  # fmt: skip
    op.create_table(
        "post_series",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("hashtags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"),
                  nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("social_account_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.Column("frequency", sa.Text(), nullable=False),
        sa.Column("every", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("weekdays", postgresql.ARRAY(sa.SmallInteger()), server_default=sa.text("'{}'"),
                  nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=True),
        *_audit_columns(),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("frequency IN ('daily', 'weekly')", name=op.f("ck_post_series_frequency")),
        sa.CheckConstraint("(until IS NULL) <> (occurrences IS NULL)",
                           name=op.f("ck_post_series_ends_by_date_or_count")),
        sa.CheckConstraint("cardinality(social_account_ids) >= 1",
                           name=op.f("ck_post_series_targets_present")),
        sa.CheckConstraint("every BETWEEN 1 AND 366", name=op.f("ck_post_series_every_range")),
        sa.CheckConstraint("occurrences BETWEEN 1 AND 366",
                           name=op.f("ck_post_series_occurrences_range")),
        sa.CheckConstraint("until IS NULL OR until >= starts_on",
                           name=op.f("ck_post_series_until_after_start")),
        sa.CheckConstraint("weekdays <@ ARRAY[1,2,3,4,5,6,7]::smallint[]",
                           name=op.f("ck_post_series_weekdays_iso")),
        sa.ForeignKeyConstraint(["account_id", "campaign_id"],
                                ["campaigns.account_id", "campaigns.id"],
                                name=op.f("fk_post_series_account_id_campaign_id_campaigns"),
                                ondelete="SET NULL (campaign_id)"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_post_series_account_id_accounts")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_post_series_created_by_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["deleted_by"], ["users.id"],
                                name=op.f("fk_post_series_deleted_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_post_series")),
    )  # fmt: skip
    op.create_index("ix_post_series_created_by", "post_series", ["created_by"])
    op.create_index(op.f("ix_post_series_deleted_by"), "post_series", ["deleted_by"])

    op.create_table(
        "posting_queues",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("social_account_id", sa.Uuid(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        *_audit_columns(),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("length(timezone) BETWEEN 1 AND 64",
                           name=op.f("ck_posting_queues_timezone_length")),
        sa.ForeignKeyConstraint(
            ["account_id", "social_account_id"],
            ["social_accounts.account_id", "social_accounts.id"],
            name=op.f("fk_posting_queues_account_id_social_account_id_social_accounts"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_posting_queues_account_id_accounts")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_posting_queues_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_posting_queues")),
        sa.UniqueConstraint("account_id", "social_account_id",
                            name=op.f("uq_posting_queues_account_id_social_account_id")),
    )  # fmt: skip

    op.create_table(
        "posting_slots",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("queue_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name=op.f("ck_posting_slots_weekday_iso")),
        sa.ForeignKeyConstraint(["account_id", "queue_id"],
                                ["posting_queues.account_id", "posting_queues.id"],
                                name=op.f("fk_posting_slots_account_id_queue_id_posting_queues"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_posting_slots_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_posting_slots")),
        sa.UniqueConstraint(
            "account_id", "queue_id", "weekday", "local_time",
            name=op.f("uq_posting_slots_account_id_queue_id_weekday_local_time")),
    )  # fmt: skip

    for table in ("post_series", "posting_queues"):
        op.execute(f"CREATE TRIGGER touch_updated_at BEFORE UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()")  # fmt: skip
        op.execute(f"CREATE TRIGGER bump_version BEFORE UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION bump_version()")  # fmt: skip
    for table in NEW_TABLES:
        enable_tenant_isolation(op.get_bind(), table)

    op.add_column("scheduled_posts", sa.Column("series_id", sa.Uuid(), nullable=True))
    op.add_column("scheduled_posts", sa.Column("series_index", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_scheduled_posts_series_index_positive"), "scheduled_posts", "series_index >= 1"
    )
    op.create_index(
        "uq_scheduled_posts_account_id_series_id_series_index", "scheduled_posts",
        ["account_id", "series_id", "series_index"], unique=True,
    )  # fmt: skip
    op.create_foreign_key(
        op.f("fk_scheduled_posts_account_id_series_id_post_series"), "scheduled_posts",
        "post_series", ["account_id", "series_id"], ["account_id", "id"],
        ondelete="SET NULL (series_id)",
    )  # fmt: skip


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_scheduled_posts_account_id_series_id_post_series"), "scheduled_posts",
        type_="foreignkey",
    )  # fmt: skip
    op.drop_index("uq_scheduled_posts_account_id_series_id_series_index",
                  table_name="scheduled_posts")  # fmt: skip
    op.drop_constraint(
        op.f("ck_scheduled_posts_series_index_positive"), "scheduled_posts", type_="check"
    )
    op.drop_column("scheduled_posts", "series_index")
    op.drop_column("scheduled_posts", "series_id")
    for table in reversed(NEW_TABLES):
        disable_tenant_isolation(op.get_bind(), table)
    op.drop_table("posting_slots")
    op.drop_table("posting_queues")
    op.drop_table("post_series")
    op.drop_index("ix_editorial_calendars_account_id_created_at",
                  table_name="editorial_calendars")  # fmt: skip
    # a calendar written through an API key has no person: the oldest owner takes it
    op.execute(
        "UPDATE editorial_calendars c SET user_id = (SELECT m.user_id FROM account_memberships m"
        " WHERE m.account_id = c.account_id AND m.role = 'owner' ORDER BY m.created_at LIMIT 1)"
        " WHERE c.user_id IS NULL"
    )
    op.execute("DELETE FROM editorial_calendars WHERE user_id IS NULL")
    op.alter_column("editorial_calendars", "user_id", existing_type=sa.Integer(), nullable=False)
