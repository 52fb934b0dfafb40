"""Media library: where an image's thumbnail is stored and why a video's duration is or is
not known (``media_assets.thumbnail_path``, ``duration_status``), and which posts show which
assets, in order (``post_media``: deleting a post removes its links; an asset still linked
cannot be deleted, ON DELETE RESTRICT).

Revision ID: 0024_media_library
Revises: 0023_campaign_charges
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from markettina.kernel.db.schema_support import disable_tenant_isolation, enable_tenant_isolation

revision: str = "0024_media_library"
down_revision: str | None = "0023_campaign_charges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DURATION_STATUSES = "duration_status IN ('measured', 'ffprobe_absent', 'ffprobe_failed')"


def upgrade() -> None:
    op.add_column("media_assets", sa.Column("thumbnail_path", sa.Text(), nullable=True))
    op.add_column("media_assets", sa.Column("duration_status", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_media_assets_duration_status"), "media_assets", DURATION_STATUSES
    )
    op.create_table(
        "post_media",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("media_asset_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_post_media_position_non_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_post_media_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_post_media_account_id_post_id_scheduled_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "media_asset_id"],
            ["media_assets.account_id", "media_assets.id"],
            name=op.f("fk_post_media_account_id_media_asset_id_media_assets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_post_media")),
        sa.UniqueConstraint(
            "account_id",
            "post_id",
            "media_asset_id",
            name=op.f("uq_post_media_account_id_post_id_media_asset_id"),
        ),
        sa.UniqueConstraint(
            "account_id",
            "post_id",
            "position",
            name=op.f("uq_post_media_account_id_post_id_position"),
        ),
    )
    op.create_index(
        "ix_post_media_account_id_media_asset_id",
        "post_media",
        ["account_id", "media_asset_id"],
        unique=False,
    )
    enable_tenant_isolation(op.get_bind(), "post_media")


def downgrade() -> None:
    disable_tenant_isolation(op.get_bind(), "post_media")
    op.drop_index("ix_post_media_account_id_media_asset_id", table_name="post_media")
    op.drop_table("post_media")
    op.drop_constraint(op.f("ck_media_assets_duration_status"), "media_assets", type_="check")
    op.drop_column("media_assets", "duration_status")
    op.drop_column("media_assets", "thumbnail_path")
