"""Webhook signing-secret rotation with a grace period: the secret an endpoint had before
its last rotation keeps signing deliveries (next to the new one) until it expires, so a
receiver can deploy the new secret without rejecting deliveries meanwhile.

``previous_secret_encrypted`` is encrypted as ``secret_encrypted`` is (the service's
Fernet keys); both columns are set together or not at all. The app role's table-wide
privileges on ``webhooks`` (0002) cover the new columns.

Revision ID: 0016_webhook_secret_grace
Revises: 0015_address_rate_limits
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_webhook_secret_grace"
down_revision: str | None = "0015_address_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("webhooks", sa.Column("previous_secret_encrypted", sa.Text()))
    op.add_column("webhooks", sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True)))
    op.create_check_constraint(
        op.f("ck_webhooks_previous_secret_paired"),
        "webhooks",
        "(previous_secret_encrypted IS NULL) = (previous_secret_expires_at IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_webhooks_previous_secret_paired"), "webhooks", type_="check")
    op.drop_column("webhooks", "previous_secret_expires_at")
    op.drop_column("webhooks", "previous_secret_encrypted")
