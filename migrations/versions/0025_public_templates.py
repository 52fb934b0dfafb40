"""Public content templates: every account reads the public ones, only their own account
changes them. The 0002 policy (one ``tenant_isolation`` for reads and writes) hid another
account's public template; a second, SELECT-only policy shows it while writes keep going
through ``tenant_isolation`` (policies of one command are OR-ed, and INSERT, UPDATE and
DELETE have only the tenant's).

A render adds one to ``usage_count``: that is no edit, so it no longer raises ``version``
(the trigger fires only when a column other than ``usage_count`` and ``updated_at``
changes), and a client holding the version it read is not refused because someone used
the template meanwhile. Another account rendering a public template counts too, though it
may not write the owner's row: ``content_template_count_use`` adds the one use, as the
owner, to the acting account's own template or to an active public one, and to nothing
else.

Revision ID: 0025_public_templates
Revises: 0024_media_library
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

APP_ROLE = "markettina_app"

COUNT_USE = """
CREATE FUNCTION content_template_count_use(p_template_id uuid) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE content_templates SET usage_count = usage_count + 1
    WHERE id = p_template_id AND deleted_at IS NULL AND is_active
      AND (is_public
           OR account_id = nullif(current_setting('app.current_account_id', true), '')::uuid)
    RETURNING usage_count
$$;
"""

revision: str = "0025_public_templates"
down_revision: str | None = "0024_media_library"
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
    op.execute(COUNT_USE)
    op.execute("REVOKE EXECUTE ON FUNCTION content_template_count_use(uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION content_template_count_use(uuid) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION content_template_count_use(uuid)")
    op.execute("DROP TRIGGER bump_version ON content_templates")
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON content_templates "
        "FOR EACH ROW EXECUTE FUNCTION bump_version()"
    )
    op.execute("DROP POLICY public_templates_read ON content_templates")
