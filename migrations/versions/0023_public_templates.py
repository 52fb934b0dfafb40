"""Public content templates: every account reads the public ones, only their own account
changes them. The 0002 policy (one ``tenant_isolation`` for reads and writes) hid another
account's public template; a second, SELECT-only policy shows it while writes keep going
through ``tenant_isolation`` (policies of one command are OR-ed, and INSERT, UPDATE and
DELETE have only the tenant's).

A render adds one to ``usage_count``: that is no edit, so it no longer raises ``version``
(the trigger fires only when a column other than ``usage_count`` and ``updated_at``
changes), and a client holding the version it read is not refused because someone used
the template meanwhile.

Revision ID: 0023_public_templates
Revises: 0022_original_columns
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023_public_templates"
down_revision: str | None = "0022_original_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the columns whose change is an edit of the template (optimistic locking)
EDITED = (
    "name", "description", "content_type", "platform", "template_content", "variables",
    "tone_of_voice", "target_audience", "is_active", "is_public", "created_by", "deleted_at",
    "deleted_by",
)  # fmt: skip


def _edited() -> str:
    # one flat OR, as 0009 wrote the webhooks' trigger (the schema dump rebuilds it as is)
    return " OR ".join(f"(OLD.{c} IS DISTINCT FROM NEW.{c})" for c in EDITED)


def upgrade() -> None:
    op.execute(
        "CREATE POLICY public_templates_read ON content_templates FOR SELECT "
        "USING (is_public AND deleted_at IS NULL)"
    )
    op.execute("DROP TRIGGER bump_version ON content_templates")
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON content_templates FOR EACH ROW "
        f"WHEN ({_edited()}) EXECUTE FUNCTION bump_version()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER bump_version ON content_templates")
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON content_templates "
        "FOR EACH ROW EXECUTE FUNCTION bump_version()"
    )
    op.execute("DROP POLICY public_templates_read ON content_templates")
