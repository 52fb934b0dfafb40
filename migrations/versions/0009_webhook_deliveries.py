"""Webhook deliveries (filled by the webhooks work).

Revision ID: 0009_webhook_deliveries
Revises: 0008_event_relay
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0009_webhook_deliveries"
down_revision: str | None = "0008_event_relay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
