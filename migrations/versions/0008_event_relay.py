"""Event relay: what the outbox relay needs beyond domain_events (filled by the events work).

Revision ID: 0008_event_relay
Revises: 0007_identity_user_context
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0008_event_relay"
down_revision: str | None = "0007_identity_user_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
